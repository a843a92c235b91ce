// Command properties is the conformance guest for proxy_get_property and
// proxy_set_property.
//
// Plugin configuration: one property per line, "TYPE PATH" or just "PATH"
// (TYPE string). PATH segments are separated by '.', so a segment cannot
// itself contain a dot: "request.path", "request.headers.x-foo",
// "xds.node.id", "connection.uri_san_peer_certificate". Blank lines and lines
// starting with '#' are ignored. TYPE decodes the host's bytes:
//
//	string  raw bytes, logged Go-quoted          int64, uint64  8 bytes little-endian, decimal
//	bool    1 byte, true/false                   bytes          lower-case hex, bare
//	map     proxy-wasm pairs, logged as a Go-quoted "k1=v1,k2=v2" (lists: "e1=,e2=")
//
// Every listed property is read in four phases: plugin_start (root context),
// request_headers, response_headers and log (proxy_on_log). One line each:
//
//	prop phase=P path="a.b" type=T value=V err=E
//
// E is an obs.Status token (value "" on error), or decode_size_N when a
// fixed-size type got N bytes (value then hex). The guest also round-trips
// property "guest_mark" (one segment):
//
//	set_property phase=plugin_start path="guest_mark" err=E      Envoy: not_found (no stream)
//	set_property phase=request_headers path="guest_mark" err=E   value "mark-from-guest"
//	get_property phase=request_headers|log path="guest_mark" value="..." err=E
package main

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/eventroute/eventroute/testdata/guests/internal/obs"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

func init() {
	proxywasm.SetPluginContext(func(uint32) types.PluginContext { return &plugin{} })
}

func main() {}

// Name and value of the property the guest writes.
const (
	markPath  = "guest_mark"
	markValue = "mark-from-guest"
)

// property is one configured line.
type property struct{ typ, path string }

// plugin is the root context holding the configured properties.
type plugin struct {
	types.DefaultPluginContext
	props []property
}

// OnPluginStart implements types.PluginContext.
func (p *plugin) OnPluginStart(int) types.OnPluginStartStatus {
	config, _ := proxywasm.GetPluginConfiguration()
	for _, line := range strings.Split(string(config), "\n") {
		fields := strings.Fields(line)
		switch {
		case len(fields) == 0 || strings.HasPrefix(fields[0], "#"):
		case len(fields) == 1:
			p.props = append(p.props, property{"string", fields[0]})
		default:
			p.props = append(p.props, property{fields[0], fields[1]})
		}
	}
	p.logAll("plugin_start")
	err := proxywasm.SetProperty([]string{markPath}, []byte(markValue))
	proxywasm.LogInfof("set_property phase=plugin_start path=%q err=%s", markPath, obs.Status(err))
	return types.OnPluginStartStatusOK
}

// NewHttpContext implements types.PluginContext.
func (p *plugin) NewHttpContext(uint32) types.HttpContext { return &stream{plugin: p} }

// stream is the per-request context.
type stream struct {
	types.DefaultHttpContext
	plugin *plugin
}

// OnHttpRequestHeaders implements types.HttpContext.
func (s *stream) OnHttpRequestHeaders(int, bool) types.Action {
	s.plugin.logAll("request_headers")
	err := proxywasm.SetProperty([]string{markPath}, []byte(markValue))
	proxywasm.LogInfof("set_property phase=request_headers path=%q err=%s", markPath, obs.Status(err))
	logMark("request_headers")
	return types.ActionContinue
}

// OnHttpResponseHeaders implements types.HttpContext.
func (s *stream) OnHttpResponseHeaders(int, bool) types.Action {
	s.plugin.logAll("response_headers")
	return types.ActionContinue
}

// OnHttpStreamDone implements types.HttpContext.
func (s *stream) OnHttpStreamDone() {
	s.plugin.logAll("log")
	logMark("log")
}

// logMark reads back the property the guest set.
func logMark(phase string) {
	v, err := proxywasm.GetProperty([]string{markPath})
	proxywasm.LogInfof("get_property phase=%s path=%q value=%q err=%s", phase, markPath, v, obs.Status(err))
}

// logAll reads and logs every configured property.
func (p *plugin) logAll(phase string) {
	for _, prop := range p.props {
		raw, err := proxywasm.GetProperty(strings.Split(prop.path, "."))
		value, status := "\"\"", obs.Status(err)
		if err == nil {
			value, status = decode(prop.typ, raw)
		}
		proxywasm.LogInfof("prop phase=%s path=%q type=%s value=%s err=%s", phase, prop.path, prop.typ, value, status)
	}
}

// decode renders raw per the type hint and returns it with a status token.
func decode(typ string, raw []byte) (value, status string) {
	sized := func(n int) bool { return len(raw) == n }
	switch typ {
	case "int64":
		if sized(8) {
			return strconv.FormatInt(int64(binary.LittleEndian.Uint64(raw)), 10), "ok"
		}
	case "uint64":
		if sized(8) {
			return strconv.FormatUint(binary.LittleEndian.Uint64(raw), 10), "ok"
		}
	case "bool":
		if sized(1) {
			return strconv.FormatBool(raw[0] != 0), "ok"
		}
	case "bytes":
		return hex.EncodeToString(raw), "ok"
	case "map":
		return strconv.Quote(pairs(raw)), "ok"
	default:
		return strconv.Quote(string(raw)), "ok"
	}
	return hex.EncodeToString(raw), fmt.Sprintf("decode_size_%d", len(raw))
}

// pairs decodes the proxy-wasm pairs format into "k1=v1,k2=v2"; malformed
// input yields "malformed".
func pairs(raw []byte) string {
	if len(raw) < 4 {
		return ""
	}
	n := int(binary.LittleEndian.Uint32(raw))
	if n > len(raw)/8 {
		return "malformed"
	}
	data := 4 + 8*n
	out := make([]string, 0, n)
	for i := range n {
		klen := int(binary.LittleEndian.Uint32(raw[4+8*i:]))
		vlen := int(binary.LittleEndian.Uint32(raw[8+8*i:]))
		if klen < 0 || vlen < 0 || data+klen+vlen+2 > len(raw) {
			return "malformed"
		}
		out = append(out, string(raw[data:data+klen])+"="+string(raw[data+klen+1:data+klen+1+vlen]))
		data += klen + vlen + 2
	}
	return strings.Join(out, ",")
}
