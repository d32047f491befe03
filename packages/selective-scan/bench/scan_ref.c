/*
 * Native reference of the wasm kernel's algorithm (assembly/scan.ts), for the bench: the same layout
 * pass (B, C transposed to (batch, L, 16), A·log2 e), the same Δ pre-pass (softplus by 2^x and atanh
 * series), the same 2^x (one clamp pair, degree-5 polynomial), two channels per step, the same y
 * epilogue. Written with GCC vector extensions, W floats per vector:
 *   cc -O3 -msse4.2 -mno-avx             -DW=4   128-bit SSE only: what wasm SIMD maps to
 *   cc -O3 -march=native                 -DW=16  the machine's widest vectors (AVX-512: one register)
 * Usage: scan_ref BATCH DIM L REPEATS  (N is 16). Prints "median_wall_ms median_cpu_ms checksum".
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef W
#define W 4
#endif
#define N 16
#define V (N / W) /* vectors per channel state */

typedef float vf __attribute__((vector_size(W * 4)));
typedef int32_t vi __attribute__((vector_size(W * 4)));

static const float LOG2E = 1.4426950408889634f;

static inline vf splat(float x) { return (vf){} + x; }
static inline vf loadv(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
static inline void storev(float *p, vf v) { memcpy(p, &v, sizeof v); }
static inline vf blend(vi mask, vf a, vf b) { return (vf)((mask & (vi)a) | (~mask & (vi)b)); }
/* max/min: one instruction where the target has it (maxps, vmaxps zmm), a compare-and-blend elsewhere. */
#if W == 4 && defined(__SSE__)
#include <immintrin.h>
static inline vf vmax(vf a, vf b) { return (vf)_mm_max_ps((__m128)a, (__m128)b); }
static inline vf vmin(vf a, vf b) { return (vf)_mm_min_ps((__m128)a, (__m128)b); }
#elif W == 16 && defined(__AVX512F__)
#include <immintrin.h>
static inline vf vmax(vf a, vf b) { return (vf)_mm512_max_ps((__m512)a, (__m512)b); }
static inline vf vmin(vf a, vf b) { return (vf)_mm512_min_ps((__m512)a, (__m512)b); }
#else
static inline vf vmax(vf a, vf b) { return blend(a > b, a, b); }
static inline vf vmin(vf a, vf b) { return blend(a < b, a, b); }
#endif

/* 2^t: clamp to ±126, round to nearest with the 1.5·2^23 trick, degree-5 polynomial on [−½, ½]. */
static inline vf exp2v(vf t) {
  const vf magic = splat(12582912.0f);
  t = vmin(vmax(t, splat(-126.0f)), splat(126.0f));
  vf shifted = t + magic;
  vf whole = shifted - magic;
  vf f = t - whole;
  vi n = (vi)shifted - (vi)magic;
  vf p = splat(1.3266970636323094e-3f);
  p = p * f + 9.675459936261177e-3f;
  p = p * f + 5.550742521882057e-2f;
  p = p * f + 0.24022121727466583f;
  p = p * f + 0.6931469440460205f;
  p = p * f + 1.0000001192092896f;
  return (vf)((vi)p + (n << 23));
}

static inline vf softplusv(vf x) {
  vf ax = vmax(x, -x);
  vf w = exp2v(-ax * LOG2E);
  vf s = w / (w + 2.0f);
  vf s2 = s * s;
  vf p = splat(2.0f / 11.0f);
  p = p * s2 + 2.0f / 9.0f;
  p = p * s2 + 2.0f / 7.0f;
  p = p * s2 + 2.0f / 5.0f;
  p = p * s2 + 2.0f / 3.0f;
  p = p * s2 + 2.0f;
  return p * s + vmax(x, splat(0.0f));
}

static inline vf siluv(vf x) { return x / (exp2v(-x * LOG2E) + 1.0f); }

/* Sum of the lanes by halving: shuffles and adds, as the wasm kernel does. */
static inline float hsum(vf v) {
#if W == 4
  v += __builtin_shuffle(v, (vi){2, 3, 0, 1});
  v += __builtin_shuffle(v, (vi){1, 0, 3, 2});
  return v[0];
#else
  float s = 0;
  for (int k = 0; k < W; k++) s += v[k];
  return s;
#endif
}

/* Δ and Δ·u of one row; L is a multiple of W here (the bench's 2048). */
static void prepare_row(const float *u, const float *delta, float bias, int L, float *dt, float *du) {
  for (int t = 0; t < L; t += W) {
    vf d = softplusv(loadv(delta + t) + bias);
    storev(dt + t, d);
    storev(du + t, d * loadv(u + t));
  }
}

static void finish_row(float *y, const float *u, const float *z, float D, int L) {
  for (int t = 0; t < L; t += W) storev(y + t, (loadv(y + t) + D * loadv(u + t)) * siluv(loadv(z + t)));
}

/* Forward with D, z, deltaBias and softplus (Mamba's configuration); checkpoints every `chunk` steps. */
static void scan_forward(int batch, int dim, int L, int chunk, const float *u, const float *delta, const float *A,
                         const float *B, const float *C, const float *D, const float *z, const float *bias,
                         float *y, float *last, float *checkpoints, float *A2, float *Bt, float *Ct, float *scratch) {
  for (int i = 0; i < dim * N; i++) A2[i] = A[i] * LOG2E;
  for (int b = 0; b < batch; b++)
    for (int n = 0; n < N; n++)
      for (int t = 0; t < L; t++) {
        Bt[(b * L + t) * N + n] = B[(b * N + n) * L + t];
        Ct[(b * L + t) * N + n] = C[(b * N + n) * L + t];
      }
  int chunks = (L + chunk - 1) / chunk;
  float *dtA = scratch, *duA = scratch + L, *dtB = scratch + 2 * L, *duB = scratch + 3 * L;
  for (int b = 0; b < batch; b++) {
    for (int d = 0; d < dim; d += 2) {
      size_t rowA = ((size_t)b * dim + d) * L, rowB = rowA + L;
      prepare_row(u + rowA, delta + rowA, bias[d], L, dtA, duA);
      prepare_row(u + rowB, delta + rowB, bias[d + 1], L, dtB, duB);
      /* States stay in registers; A is re-read each step (an L1 hit), which keeps 16 vector registers enough. */
      vf ha[V], hb[V];
      for (int k = 0; k < V; k++) ha[k] = hb[k] = splat(0.0f);
      const float *Aa = A2 + d * N, *Ab = Aa + N;
      float *cpA = checkpoints + ((size_t)(b * dim + d) * chunks) * N, *cpB = cpA + (size_t)chunks * N;
      const float *bt = Bt + (size_t)b * L * N, *ct = Ct + (size_t)b * L * N;
      for (int t = 0, until_checkpoint = 0; t < L; t++, until_checkpoint--) {
        if (until_checkpoint == 0) {
          for (int k = 0; k < V; k++) { storev(cpA + k * W, ha[k]); storev(cpB + k * W, hb[k]); }
          cpA += N;
          cpB += N;
          until_checkpoint = chunk;
        }
        vf dta = splat(dtA[t]), dua = splat(duA[t]), dtb = splat(dtB[t]), dub = splat(duB[t]);
        vf accA = splat(0.0f), accB = splat(0.0f);
        for (int k = 0; k < V; k++) {
          vf Bk = loadv(bt + t * N + k * W), Ck = loadv(ct + t * N + k * W);
          ha[k] = exp2v(dta * loadv(Aa + k * W)) * ha[k] + dua * Bk;
          hb[k] = exp2v(dtb * loadv(Ab + k * W)) * hb[k] + dub * Bk;
          accA += Ck * ha[k];
          accB += Ck * hb[k];
        }
        y[rowA + t] = hsum(accA);
        y[rowB + t] = hsum(accB);
      }
      for (int k = 0; k < V; k++) {
        storev(last + ((size_t)b * dim + d) * N + k * W, ha[k]);
        storev(last + ((size_t)b * dim + d + 1) * N + k * W, hb[k]);
      }
      finish_row(y + rowA, u + rowA, z + rowA, D[d], L);
      finish_row(y + rowB, u + rowB, z + rowB, D[d + 1], L);
    }
  }
}

/* The same seeded inputs as kernels/reference.mjs's randomInputs (LCG, Box–Muller). */
static uint32_t lcg;
static double uniform(void) { lcg = lcg * 1664525u + 1013904223u; return lcg / 4294967296.0; }
static double normal(void) { double a = 1 - uniform(); double b = uniform(); return sqrt(-2 * log(a)) * cos(2 * M_PI * b); }

static double clock_ms(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int compare(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

int main(int argc, char **argv) {
  int batch = argc > 1 ? atoi(argv[1]) : 1, dim = argc > 2 ? atoi(argv[2]) : 1536, L = argc > 3 ? atoi(argv[3]) : 2048;
  int repeats = argc > 4 ? atoi(argv[4]) : 9, chunk = 64;
  size_t rows = (size_t)batch * dim * L;
  float *u = malloc(rows * 4), *delta = malloc(rows * 4), *A = malloc(dim * N * 4), *B = malloc((size_t)batch * N * L * 4),
        *C = malloc((size_t)batch * N * L * 4), *D = malloc(dim * 4), *z = malloc(rows * 4), *bias = malloc(dim * 4);
  /* Same order of draws as randomInputs: u, delta, A, B, C, D, z, deltaBias (initialState drawn but unused). */
  lcg = 1;
  for (size_t i = 0; i < rows; i++) u[i] = normal();
  for (size_t i = 0; i < rows; i++) delta[i] = normal() * 0.5 - 1;
  for (int i = 0; i < dim * N; i++) A[i] = -0.2 - uniform() * 2;
  for (size_t i = 0; i < (size_t)batch * N * L; i++) B[i] = normal();
  for (size_t i = 0; i < (size_t)batch * N * L; i++) C[i] = normal();
  for (int i = 0; i < dim; i++) D[i] = normal();
  for (size_t i = 0; i < rows; i++) z[i] = normal();
  for (int i = 0; i < dim; i++) bias[i] = normal() * 0.3;
  int chunks = (L + chunk - 1) / chunk;
  float *y = malloc(rows * 4), *last = malloc((size_t)batch * dim * N * 4), *cp = malloc((size_t)batch * dim * chunks * N * 4);
  float *A2 = malloc(dim * N * 4), *Bt = malloc((size_t)batch * L * N * 4), *Ct = malloc((size_t)batch * L * N * 4), *scratch = malloc(4 * L * 4);
  double *times = malloc(repeats * sizeof(double)), *cpu_times = malloc(repeats * sizeof(double));
  for (int r = -2; r < repeats; r++) { /* two warm-up runs */
    double t0 = clock_ms(CLOCK_MONOTONIC), c0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
    scan_forward(batch, dim, L, chunk, u, delta, A, B, C, D, z, bias, y, last, cp, A2, Bt, Ct, scratch);
    if (r >= 0) {
      times[r] = clock_ms(CLOCK_MONOTONIC) - t0;
      cpu_times[r] = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
    }
  }
  qsort(times, repeats, sizeof(double), compare);
  qsort(cpu_times, repeats, sizeof(double), compare);
  double checksum = 0;
  for (size_t i = 0; i < rows; i++) checksum += y[i];
  printf("%.3f %.3f %.6e\n", times[repeats / 2], cpu_times[repeats / 2], checksum);
  return 0;
}
