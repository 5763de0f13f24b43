/*
 * loop.h — the daemon's single libevent loop and the one way other threads
 * talk to it.
 *
 * Everything that touches sockets, timers or module state runs on the loop
 * thread.  Worker threads (admin commands, NFS workers, PSO callers) hand
 * work to it with loop_call(); synchronous APIs built on top wait on a
 * struct loop_wait until the loop thread calls loop_wait_done().
 */
#ifndef DUONAS_LOOP_H
#define DUONAS_LOOP_H

#include <pthread.h>
#include <event2/event.h>

/* Create the base (enables libevent pthread support). Call once, first. */
struct event_base	*loop_init(void);
struct event_base	*loop_base(void);
/* Run until loop_exit(). */
int			 loop_run(void);
void			 loop_exit(void);
/* True when called on the loop thread. */
int			 loop_is_thread(void);

/* Run fn(arg) on the loop thread as soon as possible.  Thread-safe; from
 * the loop thread itself the call is queued too (never re-entrant). */
void			 loop_call(void (*fn)(void *), void *arg);

/* Run fn(arg) on the loop thread and wait until it returned.  Worker
 * threads only (on the loop thread it would wait forever). */
void			 loop_call_wait(void (*fn)(void *), void *arg);

/* A one-shot completion for synchronous calls from worker threads. */
struct loop_wait {
	pthread_mutex_t	mtx;
	pthread_cond_t	cond;
	int		done;
	int		rc;
};
void	loop_wait_init(struct loop_wait *);
void	loop_wait_destroy(struct loop_wait *);
/* Wait until done; returns rc passed to loop_wait_done(). */
int	loop_wait(struct loop_wait *);
void	loop_wait_done(struct loop_wait *, int rc);

#endif
