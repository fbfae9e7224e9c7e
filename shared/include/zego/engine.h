/* The client engine: placeholder until the engine lands. */
#ifndef ZEGO_ENGINE_H
#define ZEGO_ENGINE_H
#endif
