package main

import (
	"github.com/eventroute/eventroute/plugin/internal/problem"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

// Problem types of the plugin's local replies.
const (
	problemInvalid   = "urn:eventroute:problem:invalid-event"
	problemPublisher = "urn:eventroute:problem:publisher-denied"
	problemDelivery  = "urn:eventroute:problem:delivery-failed"
)

// replyProblem answers the request locally with an application/problem+json
// body and returns the action that stops the request.
func (h *httpContext) replyProblem(status int, typ, title, detail string) types.Action {
	p := problem.Problem{Type: typ, Title: title, Status: status, Detail: detail}
	h.reply(status, p.Append(nil))
	return types.ActionPause
}

// reply sends a local reply once; a nil body sends no content type.
func (h *httpContext) reply(status int, body []byte) {
	if h.answered {
		return
	}
	h.answered = true
	h.wantBody = false
	var headers [][2]string
	if body != nil {
		headers = [][2]string{{"content-type", problem.ContentType}}
	}
	if err := proxywasm.SendHttpResponse(uint32(status), headers, body, -1); err != nil {
		proxywasm.LogError("eventroute: cannot send the local reply: " + err.Error())
	}
}
