/* SPDX-License-Identifier: Apache-2.0 */
#ifndef SLIPWAY_PROXY_H
#define SLIPWAY_PROXY_H

#include <stddef.h>

/*
 * The serving proxy of an isolated container (no network but loopback).
 * When SLIPWAY_PROXY_SOCKET names a path, this binds a Unix socket there
 * (and a readiness probe socket at the same path + ".probe"), forks a
 * child that forwards each connection to 127.0.0.1:$PORT, and removes
 * SLIPWAY_PROXY_SOCKET from the environment. Without it, nothing happens.
 *
 * Returns 0 (also when no proxy was asked for), or -1 with errno set and
 * a message for the user in err.
 */
int proxy_start(char *err, size_t cap);

#endif
