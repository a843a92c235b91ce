//go:build !wasm

package main_test

import (
	"bytes"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/eventroute/eventroute/hostsim"
)

// TestDelivery_ReusedDeliveriesKeepTheirOwnMessage interleaves new
// deliveries with retries waiting for their backoff and with dead letters,
// so finished deliveries are reused while others are still pending: every
// attempt must carry its own event, each retry the same bytes as its first
// attempt, and every event must end exactly once.
func TestDelivery_ReusedDeliveriesKeepTheirOwnMessage(t *testing.T) {
	forModes(t, func(t *testing.T, mode hostMode) {
		e := modeEnv(t, mode, `{"routes": [], "mirrors": [{"name": "m", "match": [], "to": ["accounts", "raw"]}]}`)
		// Failures (retried), a final 404 (dead-lettered at once) and successes, in an order that does not
		// follow the events, so deliveries finish while others wait.
		e.subs["accounts"].script(503, 202, 503, 503, 202, 404, 202, 503, 202, 504, 503, 503, 202, 202, 503,
			404, 202, 503, 503, 503, 202, 202)
		const n = 40
		for i := range n {
			id := "p-" + strconv.Itoa(i)
			e.do(structuredHeaders(), structuredEvent(id, "转账", "Bank", i))
			e.advance(30 * time.Millisecond)
		}
		e.settle()

		attempts := map[string][]hostsim.CallRequest{}
		for _, c := range e.subs["accounts"].received() {
			id := decodeEvent(t, c).ID()
			attempts[id] = append(attempts[id], c)
		}
		dead := map[string]int{}
		for _, c := range e.subs["dlq"].received() {
			ev := decodeEvent(t, c)
			if sub := toString(ev.Extensions()["eventroutesubscriber"]); sub != "accounts" {
				t.Errorf("dead letter of %s names subscriber %q", ev.ID(), sub)
			}
			dead[ev.ID()]++
		}
		for i := range n {
			id := "p-" + strconv.Itoa(i)
			calls := attempts[id]
			if len(calls) == 0 || len(calls) > 3 {
				t.Errorf("%s: %d attempts, want 1 to 3", id, len(calls))
				continue
			}
			if want := structuredEvent(id, "转账", "Bank", i); !bytes.Equal(calls[0].Body, want) {
				t.Errorf("%s: first attempt body %s, want %s", id, calls[0].Body, want)
			}
			for _, c := range calls[1:] {
				if !bytes.Equal(c.Body, calls[0].Body) || !slices.Equal(c.Headers, calls[0].Headers) {
					t.Errorf("%s: a retry differs from the first attempt:\n%v %s\n%v %s", id,
						c.Headers, c.Body, calls[0].Headers, calls[0].Body)
				}
			}
			if dead[id] > 1 {
				t.Errorf("%s: dead-lettered %d times", id, dead[id])
			}
		}
		raw := e.subs["raw"].received()
		if len(raw) != n {
			t.Fatalf("raw received %d, want %d", len(raw), n)
		}
		for _, c := range raw {
			id := c.Headers.Value("ce-id")
			i, err := strconv.Atoi(id[len("p-"):])
			if err != nil || string(c.Body) != `{"amount":`+strconv.Itoa(i)+`}` || c.Headers.Value(":path") != "/raw" ||
				c.Headers.Value("x-eventroute-hop") != "1" {
				t.Errorf("raw message %v %s does not carry its own event", c.Headers, c.Body)
			}
		}
		delivered, deadLettered := e.metric("subscriber.accounts.delivered"), e.metric("subscriber.accounts.dead_lettered")
		if delivered+deadLettered != n || deadLettered != uint64(len(dead)) || deadLettered == 0 ||
			e.metric("subscriber.accounts.retried") == 0 {
			t.Errorf("accounts: delivered %d, dead-lettered %d (%d dead letters), retried %d; want %d ended, some retried and some dead-lettered",
				delivered, deadLettered, len(dead), e.metric("subscriber.accounts.retried"), n)
		}
		e.checkInvariant("accounts", "raw", "dlq")
	})
}
