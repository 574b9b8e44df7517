/*
 * hazexec.h: the one header an embedder includes.
 *
 * hazexec runs a graph of build and workspace tasks as child processes, with
 * concurrency caps, named mutexes, a content-addressed cache, failure
 * cascades, cancellation and two output modes.  A backend-neutral core talks
 * to four interfaces (spawner, clock, hash, observer) plus a cache-store
 * seam; each has its own header under hazexec/ so third parties can write
 * backends.
 */
#ifndef HAZEXEC_H
#define HAZEXEC_H

#include "hazexec/version.h"
#include "hazexec/common.h"
#include "hazexec/hash.h"
#include "hazexec/sha256.h"
#include "hazexec/clock.h"
#include "hazexec/graph.h"
#include "hazexec/hazfile.h"
#include "hazexec/outcome.h"
#include "hazexec/observer.h"
#include "hazexec/spawner.h"
#include "hazexec/cache.h"
#include "hazexec/run.h"

#endif /* HAZEXEC_H */
