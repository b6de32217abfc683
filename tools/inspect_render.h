/* Renderers for m2w-inspect: the description (describe.h) as text. */
#ifndef M2W_INSPECT_RENDER_H
#define M2W_INSPECT_RENDER_H

#include <stdio.h>

#include "describe.h"

/* Removes every key starting with '_' (the private keys), recursively. */
void inspect_strip_private(cJSON *j);
/* The readable summary m2w-inspect prints by default. */
void inspect_summary(const cJSON *j, const char *model, FILE *fp);
/* The "Model Architecture" document; returns a malloc'd string. */
char *inspect_markdown(const cJSON *j, const char *model);

#endif
