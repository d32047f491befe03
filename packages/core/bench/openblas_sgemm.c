// OpenBLAS single-precision GEMM timing for bench/matmul.bench.mjs: C = A·B, n×n, one thread.
// Prints the median GFLOP/s of `repeats` runs after one warm-up run.
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void openblas_set_num_threads(int);

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1024;
  int repeats = argc > 2 ? atoi(argv[2]) : 7;
  openblas_set_num_threads(1);
  float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n), *c = malloc(sizeof(float) * n * n);
  for (int i = 0; i < n * n; i++) {
    a[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
    b[i] = (float)((i * 104729) % 1000) / 1000.0f - 0.5f;
  }
  double times[64];
  if (repeats > 64) repeats = 64;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
  for (int r = 0; r < repeats; r++) {
    double t0 = now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    times[r] = now() - t0;
  }
  qsort(times, repeats, sizeof(double), compare);
  printf("%.3f\n", 2.0 * n * n * n / times[repeats / 2] / 1e9);
  free(a);
  free(b);
  free(c);
  return 0;
}
