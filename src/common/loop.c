/*
 * loop.c — one libevent base per process and a cross-thread call queue.
 *
 * loop_call() appends to a mutex-protected queue and activates one event;
 * the loop thread drains the whole queue in order.  FIFO order matters:
 * a PSO write queued after a lock by the same thread must be sent after it.
 */
#include <stdlib.h>
#include <event2/thread.h>

#include "common/log.h"
#include "common/loop.h"
#include "common/util.h"

struct lcall {
	void		(*fn)(void *);
	void		*arg;
	struct lcall	*next;
};

static struct event_base	*base;
static struct event		*call_ev;
static pthread_mutex_t		 call_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct lcall		*call_head, *call_tail;
static pthread_t		 loop_tid;
static int			 loop_tid_set;

static void
loop_call_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct lcall *c, *next;

	(void)fd; (void)ev; (void)arg;
	pthread_mutex_lock(&call_mtx);
	c = call_head;
	call_head = call_tail = NULL;
	pthread_mutex_unlock(&call_mtx);
	for (; c != NULL; c = next) {
		next = c->next;
		c->fn(c->arg);
		free(c);
	}
}

struct event_base *
loop_init(void)
{
	if (base != NULL)
		return base;
	if (evthread_use_pthreads() < 0)
		fatalx("evthread_use_pthreads failed");
	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	call_ev = event_new(base, -1, 0, loop_call_cb, NULL);
	if (call_ev == NULL)
		fatalx("event_new failed");
	loop_tid = pthread_self();
	loop_tid_set = 1;
	return base;
}

struct event_base *
loop_base(void)
{
	return base;
}

int
loop_run(void)
{
	loop_tid = pthread_self();
	loop_tid_set = 1;
	return event_base_dispatch(base);
}

void
loop_exit(void)
{
	event_base_loopbreak(base);
}

int
loop_is_thread(void)
{
	return loop_tid_set && pthread_equal(pthread_self(), loop_tid);
}

void
loop_call(void (*fn)(void *), void *arg)
{
	struct lcall *c = xmalloc(sizeof(*c));

	c->fn = fn;
	c->arg = arg;
	c->next = NULL;
	pthread_mutex_lock(&call_mtx);
	if (call_tail)
		call_tail->next = c;
	else
		call_head = c;
	call_tail = c;
	pthread_mutex_unlock(&call_mtx);
	event_active(call_ev, EV_READ, 0);
}

void
loop_wait_init(struct loop_wait *w)
{
	pthread_mutex_init(&w->mtx, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->done = 0;
	w->rc = 0;
}

void
loop_wait_destroy(struct loop_wait *w)
{
	pthread_mutex_destroy(&w->mtx);
	pthread_cond_destroy(&w->cond);
}

int
loop_wait(struct loop_wait *w)
{
	int rc;

	pthread_mutex_lock(&w->mtx);
	while (!w->done)
		pthread_cond_wait(&w->cond, &w->mtx);
	rc = w->rc;
	pthread_mutex_unlock(&w->mtx);
	return rc;
}

void
loop_wait_done(struct loop_wait *w, int rc)
{
	pthread_mutex_lock(&w->mtx);
	w->rc = rc;
	w->done = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->mtx);
}

struct lcall_wait {
	void			(*fn)(void *);
	void			*arg;
	struct loop_wait	 w;
};

static void
lcall_wait_cb(void *p)
{
	struct lcall_wait *o = p;

	o->fn(o->arg);
	loop_wait_done(&o->w, 0);
}

void
loop_call_wait(void (*fn)(void *), void *arg)
{
	struct lcall_wait o;

	o.fn = fn;
	o.arg = arg;
	loop_wait_init(&o.w);
	loop_call(lcall_wait_cb, &o);
	loop_wait(&o.w);
	loop_wait_destroy(&o.w);
}
