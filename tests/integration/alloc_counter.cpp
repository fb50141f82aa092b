// LD_PRELOAD counter of heap allocations for tests/integration/allocations_test.cpp: every
// malloc, calloc, realloc, posix_memalign, aligned_alloc and memalign of the process is
// counted (with its size). On SIGUSR2 the totals are written, as one line
//   "<reading> <allocations> <bytes>\n"
// over the file named by $AUTHGATE_ALLOC_COUNT_FILE, with async-signal-safe calls only; the
// reading number goes up by one per signal, so the test knows when its reading is there.
// Built as a CMake MODULE library, and only in plain builds: ASan and TSan replace the
// allocator themselves and refuse to run with a preloaded one.
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdlib>

namespace {

using Malloc = void* (*)(std::size_t);
using Calloc = void* (*)(std::size_t, std::size_t);
using Realloc = void* (*)(void*, std::size_t);
using Free = void (*)(void*);
using PosixMemalign = int (*)(void**, std::size_t, std::size_t);
using AlignedAlloc = void* (*)(std::size_t, std::size_t);

Malloc real_malloc;
Calloc real_calloc;
Realloc real_realloc;
Free real_free;
PosixMemalign real_posix_memalign;
AlignedAlloc real_aligned_alloc;
AlignedAlloc real_memalign;

std::atomic<unsigned long> allocations{0};
std::atomic<unsigned long> bytes{0};
std::atomic<unsigned long> readings{0};

// dlsym may call calloc before real_calloc is known: served from here, never freed.
alignas(16) char boot[8192];
std::size_t boot_used;

void count(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  bytes.fetch_add(n, std::memory_order_relaxed);
}

// Decimal into buf (no allocation, no locale): returns the end.
char* put(char* buf, unsigned long v) {
  char tmp[24];
  int n = 0;
  do tmp[n++] = static_cast<char>('0' + v % 10); while ((v /= 10) != 0);
  while (n) *buf++ = tmp[--n];
  return buf;
}

char path[4096];  // $AUTHGATE_ALLOC_COUNT_FILE, read once at load (getenv is not signal-safe)

void report(int) {
  if (!path[0]) return;
  char line[96];
  char* p = put(line, readings.load() + 1);
  *p++ = ' ';
  p = put(p, allocations.load());
  *p++ = ' ';
  p = put(p, bytes.load());
  *p++ = '\n';
  const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  (void)!write(fd, line, static_cast<std::size_t>(p - line));
  close(fd);
  readings.fetch_add(1);
}

template <class F>
F next(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

__attribute__((constructor)) void init() {
  if (real_malloc) return;
  real_calloc = next<Calloc>("calloc");
  real_malloc = next<Malloc>("malloc");
  real_realloc = next<Realloc>("realloc");
  real_free = next<Free>("free");
  real_posix_memalign = next<PosixMemalign>("posix_memalign");
  real_aligned_alloc = next<AlignedAlloc>("aligned_alloc");
  real_memalign = next<AlignedAlloc>("memalign");
  if (const char* p = getenv("AUTHGATE_ALLOC_COUNT_FILE")) {
    std::size_t i = 0;
    for (; p[i] && i + 1 < sizeof path; ++i) path[i] = p[i];
    path[i] = 0;
  }
  struct sigaction sa = {};
  sa.sa_handler = report;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR2, &sa, nullptr);
}

}  // namespace

extern "C" {

void* malloc(std::size_t n) {
  if (!real_malloc) init();
  count(n);
  return real_malloc(n);
}

void* calloc(std::size_t a, std::size_t b) {
  if (!real_calloc) {
    void* p = boot + boot_used;
    boot_used += (a * b + 15) & ~std::size_t{15};
    return p;
  }
  count(a * b);
  return real_calloc(a, b);
}

void* realloc(void* p, std::size_t n) {
  if (!real_realloc) init();
  count(n);
  return real_realloc(p, n);
}

void free(void* p) {
  if (p >= static_cast<void*>(boot) && p < static_cast<void*>(boot + sizeof boot)) return;
  if (!real_free) init();
  real_free(p);
}

int posix_memalign(void** out, std::size_t align, std::size_t n) {
  if (!real_posix_memalign) init();
  count(n);
  return real_posix_memalign(out, align, n);
}

void* aligned_alloc(std::size_t align, std::size_t n) {
  if (!real_aligned_alloc) init();
  count(n);
  return real_aligned_alloc(align, n);
}

void* memalign(std::size_t align, std::size_t n) {
  if (!real_memalign) init();
  count(n);
  return real_memalign(align, n);
}

}  // extern "C"
