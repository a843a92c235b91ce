package hostsim

import (
	"context"
	"fmt"
	"sync"
)

// taskCounter counts in-flight host tasks (dispatches being answered, queue notifications) and wakes waiters
// when the count reaches zero. The wake channel exists only while someone waits, so counting allocates
// nothing.
type taskCounter struct {
	mu   sync.Mutex
	n    int64
	idle chan struct{} // closed (and dropped) when n reaches 0; nil when nobody waits
}

// start counts one task.
func (t *taskCounter) start() {
	t.mu.Lock()
	t.n++
	t.mu.Unlock()
}

// done ends one task.
func (t *taskCounter) done() {
	t.mu.Lock()
	t.n--
	if t.n == 0 && t.idle != nil {
		close(t.idle)
		t.idle = nil
	}
	t.mu.Unlock()
}

// count returns the number of tasks in flight.
func (t *taskCounter) count() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

// wait returns when no task is in flight, or when ctx ends.
func (t *taskCounter) wait(ctx context.Context) error {
	t.mu.Lock()
	if t.n == 0 {
		t.mu.Unlock()
		return nil
	}
	if t.idle == nil {
		t.idle = make(chan struct{})
	}
	idle := t.idle
	t.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for %d in-flight host tasks: %w", t.count(), ctx.Err())
	}
}
