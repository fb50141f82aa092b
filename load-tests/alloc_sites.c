// LD_PRELOAD recorder of where heap allocations come from, for load-tests/alloc_sites.sh.
// kill -USR2 <pid> opens the measured window, a second SIGUSR2 closes it. Inside the window
// every malloc/calloc/realloc/posix_memalign/aligned_alloc/memalign writes one line
//   <kind> <bytes> <return address> <return address> ...
// to $ALLOC_SITES_OUT (raw addresses, glibc backtrace()); closing the window copies
// /proc/self/maps next to it ($ALLOC_SITES_OUT.maps) so the addresses can be turned into
// file+offset and then into functions (addr2line) by load-tests/alloc_sites.py.
// Build: cc -O2 -shared -fPIC -o alloc_sites.so alloc_sites.c -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { kDepth = 24 };
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);
// dlsym itself may calloc before real_calloc is known: serve that from a static block.
static char boot[8192];
static size_t boot_used;
static atomic_int recording;
static int out_fd = -1;
static const char *out_path;
static __thread int in_hook;  // backtrace() and our own writes must not be recorded

static void copy_maps(void) {
  char path[4096];
  snprintf(path, sizeof path, "%s.maps", out_path);
  int in = open("/proc/self/maps", O_RDONLY), out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  char buf[4096];
  ssize_t n;
  while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0) write(out, buf, (size_t)n);
  if (in >= 0) close(in);
  if (out >= 0) close(out);
}

static void toggle(int sig) {
  (void)sig;
  if (atomic_load(&recording)) {
    atomic_store(&recording, 0);
    copy_maps();
  } else {
    atomic_store(&recording, 1);
  }
}

__attribute__((constructor)) static void init(void) {
  if (real_malloc) return;
  real_calloc = dlsym(RTLD_NEXT, "calloc");
  real_malloc = dlsym(RTLD_NEXT, "malloc");
  real_realloc = dlsym(RTLD_NEXT, "realloc");
  real_free = dlsym(RTLD_NEXT, "free");
  real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
  real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
  real_memalign = dlsym(RTLD_NEXT, "memalign");
  out_path = getenv("ALLOC_SITES_OUT");
  if (!out_path) return;
  out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  void *warm[4];
  in_hook = 1;
  backtrace(warm, 4);  // loads libgcc_s now, outside any window
  in_hook = 0;
  signal(SIGUSR2, toggle);
}

static void record(char kind, size_t size) {
  if (!atomic_load(&recording) || in_hook || out_fd < 0) return;
  in_hook = 1;
  void *frames[kDepth];
  int n = backtrace(frames, kDepth);
  char line[kDepth * 20 + 64];
  int len = snprintf(line, sizeof line, "%c %zu", kind, size);
  for (int i = 2; i < n && len < (int)sizeof line - 20; ++i)  // skip record() and the hook
    len += snprintf(line + len, sizeof line - (size_t)len, " %p", frames[i]);
  line[len++] = '\n';
  write(out_fd, line, (size_t)len);
  in_hook = 0;
}

void *malloc(size_t s) {
  if (!real_malloc) init();
  record('m', s);
  return real_malloc(s);
}
void *calloc(size_t a, size_t b) {
  if (!real_calloc) {
    void *p = boot + boot_used;
    boot_used += (a * b + 15) & ~(size_t)15;
    return p;
  }
  record('c', a * b);
  return real_calloc(a, b);
}
void *realloc(void *p, size_t s) {
  if (!real_realloc) init();
  record('r', s);
  return real_realloc(p, s);
}
void free(void *p) {
  if ((char *)p >= boot && (char *)p < boot + sizeof boot) return;
  if (!real_free) init();
  real_free(p);
}
int posix_memalign(void **r, size_t a, size_t s) {
  if (!real_posix_memalign) init();
  record('a', s);
  return real_posix_memalign(r, a, s);
}
void *aligned_alloc(size_t a, size_t s) {
  if (!real_aligned_alloc) init();
  record('a', s);
  return real_aligned_alloc(a, s);
}
void *memalign(size_t a, size_t s) {
  if (!real_memalign) init();
  record('a', s);
  return real_memalign(a, s);
}
