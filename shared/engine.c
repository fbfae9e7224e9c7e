/* The client engine: placeholder until the engine lands. */
typedef int zego_engine_placeholder;
