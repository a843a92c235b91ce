package hostsim

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestWaitIdleWakesWhenTheLastTaskEnds(t *testing.T) {
	t.Parallel()
	var tc taskCounter
	tc.start()
	tc.start()
	woke := make(chan error, 1)
	go func() { woke <- tc.wait(context.Background()) }()
	tc.done()
	select {
	case err := <-woke:
		t.Fatalf("wait returned with a task in flight: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	tc.done()
	select {
	case err := <-woke:
		if err != nil {
			t.Fatalf("wait: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("wait did not return after the last task ended")
	}
	if err := tc.wait(context.Background()); err != nil {
		t.Fatalf("wait when idle: %v", err)
	}
}

func TestWaitIdleGivesUpWithTheContext(t *testing.T) {
	t.Parallel()
	var tc taskCounter
	tc.start()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := tc.wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait = %v, want deadline exceeded", err)
	}
	tc.done()
	if err := tc.wait(context.Background()); err != nil {
		t.Fatalf("wait after the task ended: %v", err)
	}
}

func TestWaitIdleWaitsForDispatchCallbacks(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	backend := Cluster{Handler: func(context.Context, *CallRequest) *CallResponse {
		<-release
		return &CallResponse{Headers: Headers{{":status", "200"}}}
	}}
	h := newTestHost(t, "dispatch", Options{Clusters: map[string]Cluster{"backend": backend}})
	s := h.NewStream(context.Background())
	if err := s.SendRequestHeaders(get("/", "x-cluster", "backend"), true); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := h.WaitIdle(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitIdle with the cluster still answering = %v, want deadline exceeded", err)
	}
	close(release)
	if err := h.WaitIdle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := s.Request(); !r.Forwarded {
		t.Fatalf("after WaitIdle the dispatch callback has not resumed the request: %+v", r)
	}
}

func TestWorkerPoolNeverQueuesATaskBehindABlockedOne(t *testing.T) {
	t.Parallel()
	var p workerPool
	defer p.close()
	for round := 0; round < 3; round++ { // later rounds run on parked workers
		release := make(chan struct{})
		blocked := make(chan struct{})
		p.run(func() { close(blocked); <-release })
		<-blocked
		done := make(chan struct{})
		p.run(func() { close(done) })
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("round %d: a task waited for a blocked one", round)
		}
		close(release)
	}
	p.close()
	ran := make(chan struct{})
	p.run(func() { close(ran) })
	select {
	case <-ran:
	case <-time.After(5 * time.Second):
		t.Fatal("a task started after close did not run")
	}
}
