// Replay driver for the libFuzzer targets, for builds without libFuzzer (g++):
//   <target>_replay CORPUS_DIR [MUTATIONS [SEED]]
// feeds every file of CORPUS_DIR to LLVMFuzzerTestOneInput, then MUTATIONS
// (default 20000) deterministic pseudo-random mutations of them (byte flips,
// inserts, deletes, splices, and edits of the base64url-decoded parts of a
// token). Files named valid-* must also be accepted by the target's
// AuthgateFuzzExpectValid(), so the corpus cannot rot silently.
// A crash or a failed invariant (abort) writes the input to
// ./replay-crash-<pid>.bin and prints its path; exit status 1 otherwise reports
// a valid-* file that was refused.
#include "auth/base64url.hpp"
#include "common/file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
extern "C" int AuthgateFuzzExpectValid(const std::uint8_t* data, std::size_t size) __attribute__((weak));

namespace {

// The input being run, for the crash handler (set before every call).
const std::string* g_current = nullptr;
char g_crash_path[64];

void on_crash(int sig) {
  if (g_current) {
    const int fd = ::open(g_crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ssize_t ignored = ::write(fd, g_current->data(), g_current->size());
      (void)ignored;
      ::close(fd);
    }
    const char msg[] = "\nreplay: crashing input written to ";
    ssize_t ignored = ::write(2, msg, sizeof msg - 1);
    ignored = ::write(2, g_crash_path, std::strlen(g_crash_path));
    ignored = ::write(2, "\n", 1);
    (void)ignored;
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void run(const std::string& input) {
  g_current = &input;
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
  g_current = nullptr;
}

// splitmix64: small, fast and the same everywhere.
struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }
};

constexpr char kInteresting[] = {'.', '"', '{', '}', '[', ']', ':', ',', '\\', '=', '+', '/', '-', '_',
                                 '0', '9', 'e', 'E', 'A', 'z', ' ', '\n', '\0', '\x7f', '\xc3', '\xff'};
const char* const kTokens[] = {"\"alg\"", "\"none\"", "\"kid\"", "\"typ\"", "\"crit\"", "\"b64\"", "\"exp\"",
                               "\"nbf\"", "\"iat\"", "\"iss\"", "\"aud\"", "\"sub\"", "\"nonce\"", "\"keys\"",
                               "\"kty\"", "\"crv\"", "null", "true", "1e309", "-0", "18446744073709551616",
                               "\"\\u0000\"", "\"\\ud800\"", "[[[[", "{\"a\":{", "..", "eyJhbGciOiJub25lIn0"};

// One byte-level edit of `s`.
void mutate_bytes(std::string& s, const std::vector<std::string>& corpus, Rng& rng) {
  switch (rng.below(9)) {
    case 0:  // flip a bit
      if (!s.empty()) s[rng.below(s.size())] ^= static_cast<char>(1u << rng.below(8));
      break;
    case 1:  // set a random byte
      if (!s.empty()) s[rng.below(s.size())] = static_cast<char>(rng.next());
      break;
    case 2:  // set an interesting byte
      if (!s.empty()) s[rng.below(s.size())] = kInteresting[rng.below(sizeof kInteresting)];
      break;
    case 3:  // insert an interesting byte
      s.insert(s.begin() + static_cast<std::ptrdiff_t>(rng.below(s.size() + 1)),
               kInteresting[rng.below(sizeof kInteresting)]);
      break;
    case 4: {  // delete a range
      if (s.empty()) break;
      const std::size_t at = rng.below(s.size());
      s.erase(at, 1 + rng.below(std::min<std::size_t>(16, s.size() - at)));
      break;
    }
    case 5: {  // duplicate a range
      if (s.empty()) break;
      const std::size_t at = rng.below(s.size());
      const std::string piece = s.substr(at, 1 + rng.below(32));
      s.insert(rng.below(s.size() + 1), piece);
      break;
    }
    case 6:  // truncate
      s.resize(rng.below(s.size() + 1));
      break;
    case 7: {  // splice in a piece of another corpus entry
      const std::string& other = corpus[rng.below(corpus.size())];
      if (other.empty()) break;
      const std::size_t from = rng.below(other.size());
      const std::string piece = other.substr(from, 1 + rng.below(64));
      const std::size_t at = rng.below(s.size() + 1);
      s.replace(at, rng.below(s.size() - at + 1), piece);
      break;
    }
    default:  // insert a JSON/JOSE token
      s.insert(rng.below(s.size() + 1), kTokens[rng.below(std::size(kTokens))]);
      break;
  }
}

// Edits the decoded bytes of one '.'-separated base64url part of a token, so
// mutations reach the JSON inside instead of breaking the encoding. False when
// `s` has no such part.
bool mutate_token_part(std::string& s, const std::vector<std::string>& corpus, Rng& rng) {
  std::vector<std::size_t> starts{0};
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '.') starts.push_back(i + 1);
  }
  if (starts.size() < 2) return false;
  const std::size_t k = rng.below(starts.size());
  const std::size_t begin = starts[k];
  const std::size_t end = k + 1 < starts.size() ? starts[k + 1] - 1 : s.size();
  std::string bytes;
  if (!authgate::auth::base64url_decode(std::string_view(s).substr(begin, end - begin), bytes)) return false;
  mutate_bytes(bytes, corpus, rng);
  s.replace(begin, end - begin, authgate::auth::base64url_encode(bytes));
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR [MUTATIONS [SEED]]\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  const long mutations = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 20000;
  Rng rng{argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 0x5eedULL};

  std::snprintf(g_crash_path, sizeof g_crash_path, "replay-crash-%d.bin", static_cast<int>(::getpid()));
  std::signal(SIGABRT, on_crash);
  std::signal(SIGSEGV, on_crash);
  std::signal(SIGBUS, on_crash);
  std::signal(SIGFPE, on_crash);
  std::signal(SIGILL, on_crash);

  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());  // directory order is not deterministic
  if (files.empty()) {
    std::fprintf(stderr, "replay: no corpus files in %s\n", dir.c_str());
    return 1;
  }

  std::vector<std::string> corpus;
  int refused = 0;
  for (const auto& path : files) {
    authgate::common::Result<std::string> read = authgate::common::read_file(path.string());
    if (!read) {
      std::fprintf(stderr, "replay: cannot read %s: %s\n", path.c_str(), read.error().message().c_str());
      return 1;
    }
    std::string bytes = std::move(*read);
    run(bytes);
    if (path.filename().string().starts_with("valid-") && AuthgateFuzzExpectValid &&
        !AuthgateFuzzExpectValid(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size())) {
      std::fprintf(stderr, "replay: %s is named valid-* but the target refuses it\n", path.c_str());
      ++refused;
    }
    corpus.push_back(std::move(bytes));
  }

  for (long i = 0; i < mutations; ++i) {
    std::string s = corpus[rng.below(corpus.size())];
    const std::size_t edits = 1 + rng.below(4);
    for (std::size_t e = 0; e < edits; ++e) {
      if (rng.below(3) == 0 && mutate_token_part(s, corpus, rng)) continue;
      mutate_bytes(s, corpus, rng);
    }
    if (s.size() > 64 * 1024) s.resize(64 * 1024);
    run(s);
  }

  std::printf("replay: %zu corpus files, %ld mutations, %d valid-* refused\n", files.size(), mutations, refused);
  return refused == 0 ? 0 : 1;
}
