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

// maxIdleWorkers bounds the parked goroutines a Host keeps for reuse.
const maxIdleWorkers = 64

// workerPool runs tasks on reused goroutines: dispatch handlers and guest callbacks need deep stacks, and a
// fresh goroutine would grow (copy) its stack for every task. It never limits concurrency: with no idle
// worker a task gets a new goroutine, which parks afterwards (up to maxIdleWorkers) until close.
type workerPool struct {
	mu     sync.Mutex
	idle   []chan func()
	closed bool
}

// run starts f on an idle worker or a new goroutine.
func (p *workerPool) run(f func()) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		w <- f
		return
	}
	p.mu.Unlock()
	go p.work(f)
}

// work runs f, then parks and runs the tasks handed to it until the pool closes or has enough idle workers.
func (p *workerPool) work(f func()) {
	var tasks chan func()
	for f != nil {
		f()
		p.mu.Lock()
		if p.closed || len(p.idle) >= maxIdleWorkers {
			p.mu.Unlock()
			return
		}
		if tasks == nil {
			tasks = make(chan func())
		}
		p.idle = append(p.idle, tasks)
		p.mu.Unlock()
		f = <-tasks // nil once the pool closes
	}
}

// close releases the parked workers; tasks started later still run, on goroutines that then exit.
func (p *workerPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, w := range p.idle {
		close(w)
	}
	p.idle = nil
}
