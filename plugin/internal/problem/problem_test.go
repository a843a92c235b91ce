package problem_test

import (
	"encoding/json"
	"testing"

	"github.com/eventroute/eventroute/plugin/internal/problem"
)

func TestAppend_IsValidJSONWithEveryMember(t *testing.T) {
	p := problem.Problem{
		Type:        "urn:eventroute:delivery-failed",
		Title:       "Delivery failed",
		Status:      502,
		Detail:      "quote \" backslash \\ newline \n tab \t bell \a 转账 bad \xff end",
		Subscribers: []string{"accounts", "audit"},
	}
	out := p.Append(nil)
	var got struct {
		Type        string   `json:"type"`
		Title       string   `json:"title"`
		Status      int      `json:"status"`
		Detail      string   `json:"detail"`
		Subscribers []string `json:"subscribers"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	wantDetail := "quote \" backslash \\ newline \n tab \t bell \a 转账 bad \ufffd end"
	if got.Type != p.Type || got.Title != p.Title || got.Status != 502 || got.Detail != wantDetail ||
		len(got.Subscribers) != 2 || got.Subscribers[1] != "audit" {
		t.Fatalf("round trip mismatch: %+v", got)
	}
}

func TestAppend_LeavesOutEmptyMembers(t *testing.T) {
	p := problem.Problem{Status: 400, Detail: "missing source"}
	if got, want := string(p.Append(nil)), `{"status":400,"detail":"missing source"}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}
