/* SPDX-License-Identifier: GPL-2.0 */
/*
 * safe/workqueue.h - a work item embedded in its owner, run by a typed function.
 *
 * Stands for Rust-for-Linux's kernel::workqueue: a Work<T> field declared with
 * impl_has_work!, a WorkItem::run(&T) the queue calls, and Queue::enqueue on the system
 * unbound queue. The driver never sees the work_struct nor finds its owner from it: the
 * adapter generated here does, so a work item cannot run with the wrong owner type.
 *
 *	SAFE_DEFINE_WORK(name, type, field, fn)	struct type has a struct safe_work @field;
 *		generates name_init(&t->field), which makes fn(struct type *) its run function
 *	safe_work_queue(w)		queue on the system unbound queue; false if already queued
 *	safe_work_flush(w)		wait until the queued or running item has finished
 *	safe_work_cancel_sync(w)	cancel a queued item, wait out a running one
 *
 * Invariant: a struct safe_work that was initialised by name_init is embedded in a struct
 * type at @field, and only that type's function runs it.
 */
#ifndef SAFE_WORKQUEUE_H
#define SAFE_WORKQUEUE_H

#include <linux/workqueue.h>

/* Work<T>: the work item, only ever run through its owner's generated adapter. */
struct safe_work {
	struct work_struct work;
};

#define SAFE_DEFINE_WORK(name, type, field, fn)				\
	static void name##_adapter(struct work_struct *w)		\
	{								\
		/* SAFETY: name_init only hands this adapter a type's field. */ \
		fn(container_of(w, struct type, field.work));		\
	}								\
									\
	static inline void name##_init(struct safe_work *w)		\
	{								\
		INIT_WORK(&w->work, name##_adapter);			\
	}

static inline bool safe_work_queue(struct safe_work *w)
{
	return queue_work(system_unbound_wq, &w->work);
}

static inline void safe_work_flush(struct safe_work *w)
{
	flush_work(&w->work);
}

static inline void safe_work_cancel_sync(struct safe_work *w)
{
	cancel_work_sync(&w->work);
}

#endif /* SAFE_WORKQUEUE_H */
