/* A string-keyed hash map (chained, growing), for rooms, sessions and
 * streams.  Keys are copied; values are borrowed pointers. */
#ifndef ZS_MAP_H
#define ZS_MAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct zs_map_entry {
    struct zs_map_entry *next;
    void *value;
    size_t hash;
    char key[];
} zs_map_entry;

typedef struct zs_map {
    zs_map_entry **buckets;
    size_t n_buckets;
    size_t count;
} zs_map;

void zs_map_init(zs_map *map);
/* Frees the entries (not the values). */
void zs_map_free(zs_map *map);
void *zs_map_get(const zs_map *map, const char *key);
/* Adds or replaces; false when out of memory. */
bool zs_map_put(zs_map *map, const char *key, void *value);
/* Removes and returns the value, or NULL. */
void *zs_map_remove(zs_map *map, const char *key);

/* Iteration: for (zs_map_iter it = zs_map_first(m); it.entry; zs_map_next(m, &it)).
 * Removing the current entry while iterating is not allowed; collect first. */
typedef struct zs_map_iter {
    zs_map_entry *entry;
    size_t bucket;
} zs_map_iter;
zs_map_iter zs_map_first(const zs_map *map);
void zs_map_next(const zs_map *map, zs_map_iter *it);

#endif
