// Reads "n" and n f32 values as hex bits from stdin, quantizes them with llama.cpp's reference
// quantizers (quantize_row_{q8_0,q4_0,q5_0,q4_K,q6_K}_ref from ggml-quants.c) and prints the Q8_0,
// Q4_0, Q5_0, Q4_K and Q6_K bytes as hex lines (the K lines empty unless n is a multiple of 256).
// Build: see make-vectors.sh.
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include "ggml-quants.h"
#include "ggml-common.h"

static void print_hex(const void *p, size_t n) {
  const unsigned char *b = (const unsigned char *) p;
  for (size_t i = 0; i < n; i++) printf("%02x", b[i]);
  printf("\n");
}

int main(void) {
  int n;
  if (scanf("%d", &n) != 1 || n <= 0 || n % 32 != 0) return 1;
  float *x = malloc(sizeof(float) * n);
  for (int i = 0; i < n; i++) {
    unsigned u;
    if (scanf("%x", &u) != 1) return 1;
    memcpy(&x[i], &u, 4);
  }
  block_q8_0 *q8 = malloc(sizeof(block_q8_0) * (n / 32));
  block_q4_0 *q4 = malloc(sizeof(block_q4_0) * (n / 32));
  block_q5_0 *q5 = malloc(sizeof(block_q5_0) * (n / 32));
  quantize_row_q8_0_ref(x, q8, n);
  quantize_row_q4_0_ref(x, q4, n);
  quantize_row_q5_0_ref(x, q5, n);
  print_hex(q8, sizeof(block_q8_0) * (n / 32));
  print_hex(q4, sizeof(block_q4_0) * (n / 32));
  print_hex(q5, sizeof(block_q5_0) * (n / 32));
  if (n % QK_K == 0) {
    block_q4_K *q4k = malloc(sizeof(block_q4_K) * (n / QK_K));
    block_q6_K *q6k = malloc(sizeof(block_q6_K) * (n / QK_K));
    quantize_row_q4_K_ref(x, q4k, n);
    quantize_row_q6_K_ref(x, q6k, n);
    print_hex(q4k, sizeof(block_q4_K) * (n / QK_K));
    print_hex(q6k, sizeof(block_q6_K) * (n / QK_K));
  } else {
    printf("\n\n");
  }
  return 0;
}
