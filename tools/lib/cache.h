/* cache: a content-addressed store of tool results (--cache-dir DIR).
 *
 * A result is keyed by XXH3-128 over, in order: a format tag, the tool
 * name, M2W_VERSION, the hash of the running executable (its ELF PT_LOAD
 * bytes without the notes, so the build id and debug info -- which carry
 * the build directory -- do not split the cache between build dirs; the
 * whole file when it is not ELF; the version alone when /proc/self/exe
 * cannot be read), the key-relevant options the tool passes (never output
 * paths, depfiles or the cache dir) and the bytes of every input file known
 * before running.  Each part is length-prefixed, so no two lists collide.
 *
 * Layout:
 *   DIR/log                         one line a lookup, appended in a single
 *                                   O_APPEND write: "hit|miss TOOL KEY INPUT\n"
 *   DIR/TOOL/KEY/VARIANT/meta.json  the entry's manifest (below)
 *   DIR/TOOL/KEY/VARIANT/0, 1, ...  the output files, copied (never linked:
 *                                   outputs get replaced in place)
 *   DIR/TOOL/.tmp.PID.RAND/         an entry being written, renamed to
 *                                   its VARIANT dir when complete
 *   DIR/TOOL/.del.PID.RAND/         an entry being removed
 *                                   (both swept by a later store once an
 *                                   hour old: left by a killed process)
 *
 * Files a tool reads that are only known once it runs (ONNX external data,
 * the blob of a weights.json) are "extras": stored as (path, bytes, xxh3)
 * and checked on lookup; VARIANT is the XXH3-64 of that list, so results
 * for several versions of the extra files live side by side under one KEY
 * and switching back to an earlier one is a hit.  An extra beside the main
 * input is stored relative to the input's directory ("rel": true), so a
 * fresh build dir with the same layout hits too.
 *
 * meta.json:
 *   { "format": "m2w-cache", "version": 1, "tool", "key", "input": "<basename>",
 *     "files":  [ {"name", "bytes", "xxh3"} ],     file i is stored as "i"
 *     "extras": [ {"path", "rel": bool, "bytes", "xxh3"} ] }
 *
 * Concurrency: entries appear by rename() of a complete directory, and are
 * removed by rename() to a .del name before being emptied, so a reader sees
 * a whole entry or none.  When two processes store the same entry the
 * second rename fails (the target is a non-empty directory) and the loser
 * deletes its copy.  A hit re-hashes every stored file while copying it out;
 * a mismatch (a corrupt entry) removes the entry and is a miss.
 *
 * The cache is an optimisation: the tools treat every cache error as a
 * miss (with a warning) and never fail because of it.  Nothing is evicted:
 * removing DIR (or any DIR/TOOL/KEY) while no tool runs is always safe,
 * and `find DIR -mindepth 3 -maxdepth 3 -type d -mtime +30 -exec rm -r {} +`
 * drops entries stored more than 30 days ago.
 */
#ifndef M2W_CACHE_H
#define M2W_CACHE_H

#include "m2w.h"

struct m2w_cache;

/* Where a stored file named NAME goes: the matching dest[] entry, else
 * dest_dir/NAME (a name with '/' or a leading '.' is refused). */
struct m2w_cache_dest {
	const char *name;
	const char *path;
};

/* Opens DIR/TOOL (created with DIR).  INPUT is the main input: its
 * basename goes to the log, its directory anchors relative extras. */
struct m2w_cache *m2w_cache_create(const char *dir, const char *tool, const char *input,
	struct m2w_diag *d);
void m2w_cache_free(struct m2w_cache *c);

/* Key parts, in the order given. */
int m2w_cache_key_str(struct m2w_cache *c, const char *name, const char *value);
int m2w_cache_key_file(struct m2w_cache *c, const char *name, const char *path,
	struct m2w_diag *d);

/* 1 on a hit (every stored file written to its destination, write-if-
 * changed: *nchanged counts the rewritten ones), 0 on a miss, -1 on an
 * error (treat as a miss).  Appends the log line either way.  A corrupt
 * entry is removed and is a miss; m2w_cache_note() then says why. */
int m2w_cache_lookup(struct m2w_cache *c, const struct m2w_cache_dest *dest, size_t ndest,
	const char *dest_dir, size_t *nchanged, struct m2w_diag *d);

/* After a hit: the extras' paths as they resolve now (for the depfile). */
size_t m2w_cache_extras(const struct m2w_cache *c, const char *const **paths);

/* After a miss and a successful run: record an extra file and an output
 * (NAME as in m2w_cache_dest), then store the entry.  Returns 0 when the
 * entry is in place (ours or an identical one another process stored). */
int m2w_cache_add_extra(struct m2w_cache *c, const char *path, struct m2w_diag *d);
int m2w_cache_add_output(struct m2w_cache *c, const char *name, const char *path,
	struct m2w_diag *d);
int m2w_cache_store(struct m2w_cache *c, struct m2w_diag *d);

/* "DIR/TOOL/KEY/VARIANT" of the hit or stored entry ("DIR/TOOL/KEY" before). */
const char *m2w_cache_entry(const struct m2w_cache *c);
/* Why the last lookup missed besides "no entry" (a corrupt entry removed),
 * or NULL. */
const char *m2w_cache_note(const struct m2w_cache *c);

/* "PROG: warning: WHAT: <d's message>" on stderr unless quiet: a cache
 * problem never stops a tool, it only says so. */
void m2w_cache_warn(const char *prog, const char *what, const struct m2w_diag *d, bool quiet);

/* The 32 hex digits of the key so far (tests, messages). */
void m2w_cache_key_hex(struct m2w_cache *c, char out[33]);

#endif
