// Reads "n" and n f32 values as hex bits from stdin, quantizes them with llama.cpp's reference
// quantizers (quantize_row_q8_0_ref, quantize_row_q4_0_ref from ggml-quants.c) and prints the
// Q8_0 bytes, then the Q4_0 bytes, as hex lines. Build: see make-vectors.sh.
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
  quantize_row_q8_0_ref(x, q8, n);
  quantize_row_q4_0_ref(x, q4, n);
  print_hex(q8, sizeof(block_q8_0) * (n / 32));
  print_hex(q4, sizeof(block_q4_0) * (n / 32));
  return 0;
}
