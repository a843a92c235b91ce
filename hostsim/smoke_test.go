package hostsim

import (
	"context"
	"testing"
)

func TestEmptyGuestLifecycle(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "empty", Options{})
	res, err := h.Do(context.Background(), Request{Headers: get("/x")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Request.Complete || !res.Response.Complete || res.LocalReply != nil {
		t.Fatalf("result %+v", res)
	}
}
