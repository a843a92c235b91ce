package cloudevent_test

import (
	"errors"
	"fmt"

	"github.com/eventroute/eventroute/filters/cloudevent"
	"github.com/eventroute/eventroute/filters/event"
)

// A binary-mode event as the Go SDK sends it, then delivered in structured
// mode and in binary mode.
func Example() {
	headers := [][2]string{
		{":method", "POST"},
		{"content-type", "application/json"},
		{"ce-specversion", "1.0"},
		{"ce-id", "t-1"},
		{"ce-source", "Bank"},
		{"ce-type", "转账"},
		{"ce-subject", "Account"},
	}
	body := []byte(`{"amount":1200}`)

	var ev event.Event
	if cloudevent.DetectMode(headers) == event.ModeBinary {
		if err := cloudevent.ReadBinary(headers, body, &ev); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println(ev.Type, ev.Source, ev.Subject)
	fmt.Println(string(cloudevent.AppendStructured(nil, &ev)))
	for _, h := range cloudevent.AppendBinaryHeaders(nil, &ev) {
		fmt.Printf("%s: %s\n", h[0], h[1])
	}
	// Output:
	// 转账 Bank Account
	// {"specversion":"1.0","id":"t-1","source":"Bank","type":"转账","subject":"Account","datacontenttype":"application/json","data":{"amount":1200}}
	// ce-specversion: 1.0
	// ce-id: t-1
	// ce-source: Bank
	// ce-type: %E8%BD%AC%E8%B4%A6
	// ce-subject: Account
	// content-type: application/json
}

// Invalid events are reported with a reason to check with errors.Is and a
// message safe to show to the client.
func ExampleInvalidError() {
	var ev event.Event
	err := cloudevent.ReadStructured([]byte(`{"specversion":"1.0","id":"1","type":"com.bank.transfer"}`), &ev)
	fmt.Println(err)
	fmt.Println(errors.Is(err, cloudevent.ErrMissingAttribute))
	// Output:
	// missing source
	// true
}
