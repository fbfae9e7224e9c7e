/* libzegoroom: everything in one include. */
#ifndef ZEGO_ZEGO_H
#define ZEGO_ZEGO_H

#include <zego/engine.h>
#include <zego/errors.h>
#include <zego/ids.h>
#include <zego/token04.h>
#include <zego/types.h>

#endif
