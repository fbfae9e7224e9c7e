/* A TCP proxy on loopback for tests: forwards connections to a port and can
 * cut them on demand, all or only those whose HTTP request line contains a
 * given text (e.g. "/media/" for media sockets), to simulate a network that
 * drops connections without the server or the client going away. */
#ifndef ZT_TCP_PROXY_H
#define ZT_TCP_PROXY_H

typedef struct zt_proxy zt_proxy;

/* Listens on a free loopback port forwarding to target_port; *port gets it. */
zt_proxy *zt_proxy_start(int target_port, int *port);

/* Cuts the open connections whose first request line contains `match`
 * (NULL = all).  Returns how many were cut. */
int zt_proxy_cut(zt_proxy *p, const char *match);

void zt_proxy_stop(zt_proxy *p);

#endif
