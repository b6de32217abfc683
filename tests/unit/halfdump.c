/* halfdump: writes our f16/bf16 conversions for check_half.py to compare
 * with NumPy: f16->f32 for all 65536 codes, then f32->f16 and f32->bf16
 * for the f32 values read from stdin. */
#include <stdio.h>
#include <stdlib.h>

#include "m2w.h"

int main(void)
{
	for (uint32_t h = 0; h < 0x10000; h++) {
		float f = m2w_f16_to_f32((uint16_t)h);
		fwrite(&f, 4, 1, stdout);
	}
	float v;
	while (fread(&v, 4, 1, stdin) == 1) {
		uint16_t a = m2w_f32_to_f16(v), b = m2w_f32_to_bf16(v);
		fwrite(&a, 2, 1, stdout);
		fwrite(&b, 2, 1, stdout);
	}
	return 0;
}
