/* String-keyed hash map; see map.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "map.h"

static size_t hash_key(const char *key)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return (size_t)h;
}

void zs_map_init(zs_map *map)
{
    memset(map, 0, sizeof *map);
}

void zs_map_free(zs_map *map)
{
    for (size_t i = 0; i < map->n_buckets; i++) {
        zs_map_entry *e = map->buckets[i];
        while (e) {
            zs_map_entry *next = e->next;
            free(e);
            e = next;
        }
    }
    free(map->buckets);
    zs_map_init(map);
}

static zs_map_entry **find_slot(const zs_map *map, const char *key, size_t h)
{
    if (!map->n_buckets)
        return NULL;
    zs_map_entry **slot = &map->buckets[h & (map->n_buckets - 1)];
    while (*slot && ((*slot)->hash != h || strcmp((*slot)->key, key) != 0))
        slot = &(*slot)->next;
    return slot;
}

void *zs_map_get(const zs_map *map, const char *key)
{
    zs_map_entry **slot = find_slot(map, key, hash_key(key));
    return slot && *slot ? (*slot)->value : NULL;
}

static bool grow(zs_map *map)
{
    size_t n = map->n_buckets ? map->n_buckets * 2 : 16;
    zs_map_entry **buckets = calloc(n, sizeof *buckets);
    if (!buckets)
        return false;
    for (size_t i = 0; i < map->n_buckets; i++) {
        zs_map_entry *e = map->buckets[i];
        while (e) {
            zs_map_entry *next = e->next;
            e->next = buckets[e->hash & (n - 1)];
            buckets[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(map->buckets);
    map->buckets = buckets;
    map->n_buckets = n;
    return true;
}

bool zs_map_put(zs_map *map, const char *key, void *value)
{
    size_t h = hash_key(key);
    zs_map_entry **slot = find_slot(map, key, h);
    if (slot && *slot) {
        (*slot)->value = value;
        return true;
    }
    if (map->count + 1 > map->n_buckets * 3 / 4 && !grow(map))
        return false;
    size_t len = strlen(key);
    zs_map_entry *e = malloc(sizeof *e + len + 1);
    if (!e)
        return false;
    memcpy(e->key, key, len + 1);
    e->hash = h;
    e->value = value;
    e->next = map->buckets[h & (map->n_buckets - 1)];
    map->buckets[h & (map->n_buckets - 1)] = e;
    map->count++;
    return true;
}

void *zs_map_remove(zs_map *map, const char *key)
{
    zs_map_entry **slot = find_slot(map, key, hash_key(key));
    if (!slot || !*slot)
        return NULL;
    zs_map_entry *e = *slot;
    void *value = e->value;
    *slot = e->next;
    free(e);
    map->count--;
    return value;
}

zs_map_iter zs_map_first(const zs_map *map)
{
    zs_map_iter it = {NULL, 0};
    for (; it.bucket < map->n_buckets; it.bucket++) {
        if (map->buckets[it.bucket]) {
            it.entry = map->buckets[it.bucket];
            return it;
        }
    }
    return it;
}

void zs_map_next(const zs_map *map, zs_map_iter *it)
{
    if (it->entry->next) {
        it->entry = it->entry->next;
        return;
    }
    it->entry = NULL;
    for (it->bucket++; it->bucket < map->n_buckets; it->bucket++) {
        if (map->buckets[it->bucket]) {
            it->entry = map->buckets[it->bucket];
            return;
        }
    }
}
