package hostsim

import (
	"encoding/binary"
	"net"
	"strconv"
	"strings"
)

// Property values are encoded as Envoy's serializeValue does (HOSTABI §3.3).
func propString(s string) ([]byte, uint32) { return []byte(s), statusOK }

func propInt(n int64) ([]byte, uint32) {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint64(b, uint64(n))
	return b, statusOK
}

func propBool(x bool) ([]byte, uint32) {
	if x {
		return []byte{1}, statusOK
	}
	return []byte{0}, statusOK
}

// propHeaderEntry answers response.headers / response.trailers: the whole
// map for the bare path, else the first value of the named entry.
func propHeaderEntry(h Headers, rest []string) ([]byte, uint32) {
	if len(rest) == 1 {
		return propHeaders(h)
	}
	val, ok := h.Get(rest[1])
	if !ok {
		return notFound()
	}
	return leaf(rest[2:], strB(val))
}

// propHeaders encodes a header map as a pairs map, multiple values joined with ',' (CEL header map view).
func propHeaders(h Headers) ([]byte, uint32) {
	var merged Headers
	for _, kv := range h {
		found := false
		for i := range merged {
			if merged[i][0] == kv[0] {
				merged[i][1] += "," + kv[1]
				found = true
				break
			}
		}
		if !found {
			merged = append(merged, kv)
		}
	}
	return EncodePairs(merged), statusOK
}

func notFound() ([]byte, uint32) { return nil, statusNotFound }

func hostGetProperty(v *vm, p []uint64) uint32 {
	raw, ok := v.read(u32(p[0]), u32(p[1]))
	if !ok {
		return statusInvalidMemoryAccess
	}
	path := strings.Split(string(raw), "\x00")
	val, st := v.property(path)
	if st != statusOK {
		return st
	}
	return v.copyOut(val, u32(p[2]), u32(p[3]))
}

func hostSetProperty(v *vm, p []uint64) uint32 {
	key, ok1 := v.readString(u32(p[0]), u32(p[1]))
	val, ok2 := v.read(u32(p[2]), u32(p[3]))
	if !ok1 || !ok2 {
		return statusInvalidMemoryAccess
	}
	s := v.streamFor()
	if s == nil {
		return statusNotFound
	}
	if s.filterState == nil {
		s.filterState = map[string][]byte{}
	}
	s.filterState[strings.ReplaceAll(key, "\x00", ".")] = append([]byte(nil), val...)
	return statusOK
}

// property resolves an attribute path for the effective context.
func (v *vm) property(path []string) ([]byte, uint32) {
	h := v.host
	s := v.streamFor()
	rest := path[1:]
	switch path[0] {
	case "plugin_name":
		return leaf(rest, strB(h.opts.Plugin.Name))
	case "plugin_root_id":
		return leaf(rest, strB(h.opts.Plugin.RootID))
	case "plugin_vm_id":
		return leaf(rest, strB(h.opts.Plugin.VMID))
	case "connection_id":
		return leaf(rest, intB(int64(h.connectionID())))
	case "xds":
		return h.xdsProperty(rest)
	case "source", "destination":
		if s == nil {
			return notFound()
		}
		addr := h.opts.Peer.SourceAddress
		def := "127.0.0.1:40000"
		if path[0] == "destination" {
			addr, def = h.opts.Peer.DestinationAddress, "127.0.0.1:10000"
		}
		if addr == "" {
			addr = def
		}
		return addressProperty(addr, rest)
	case "connection":
		if s == nil {
			return notFound()
		}
		return h.connectionProperty(rest)
	case "request":
		if s == nil {
			return notFound()
		}
		return s.requestProperty(rest)
	case "response":
		if s == nil {
			return notFound()
		}
		return s.responseProperty(rest)
	}
	if s != nil && s.filterState != nil {
		key := strings.Join(path, ".")
		key = strings.TrimPrefix(key, "wasm.")
		if val, ok := s.filterState[key]; ok {
			return val, statusOK
		}
	}
	return notFound()
}

// leaf returns val only when the path ends here.
func leaf(rest []string, val []byte) ([]byte, uint32) {
	if len(rest) != 0 {
		return notFound()
	}
	return val, statusOK
}

func strB(s string) []byte { b, _ := propString(s); return b }
func intB(n int64) []byte  { b, _ := propInt(n); return b }

func (h *Host) connectionID() uint64 {
	if h.opts.Peer.ConnectionID != 0 {
		return h.opts.Peer.ConnectionID
	}
	return 1
}

func addressProperty(addr string, rest []string) ([]byte, uint32) {
	if len(rest) != 1 {
		return notFound()
	}
	switch rest[0] {
	case "address":
		return propString(addr)
	case "port":
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			return notFound()
		}
		n, err := strconv.ParseInt(port, 10, 64)
		if err != nil {
			return notFound()
		}
		return propInt(n)
	}
	return notFound()
}

func (h *Host) connectionProperty(rest []string) ([]byte, uint32) {
	if len(rest) != 1 {
		return notFound()
	}
	p := h.opts.Peer
	mtls := p.URISAN != "" || p.DNSSAN != "" || p.Subject != ""
	str := func(s string) ([]byte, uint32) {
		if s == "" {
			return notFound()
		}
		return propString(s)
	}
	switch rest[0] {
	case "id":
		return propInt(int64(h.connectionID()))
	case "mtls":
		return propBool(mtls)
	case "requested_server_name":
		return propString(p.RequestedServerName)
	case "tls_version":
		if p.TLSVersion == "" && mtls {
			return propString("TLSv1.3")
		}
		return str(p.TLSVersion)
	case "uri_san_peer_certificate":
		return str(p.URISAN)
	case "dns_san_peer_certificate":
		return str(p.DNSSAN)
	case "subject_peer_certificate":
		return str(p.Subject)
	case "uri_san_local_certificate":
		return str(p.LocalURISAN)
	}
	return notFound()
}

func (h *Host) xdsProperty(rest []string) ([]byte, uint32) {
	if len(rest) == 0 {
		return nil, statusSerializationFailed
	}
	x := h.opts.XDS
	str := func(s string) ([]byte, uint32) {
		if s == "" {
			return notFound()
		}
		return leaf(rest[1:], strB(s))
	}
	switch rest[0] {
	case "cluster_name":
		return str(x.ClusterName)
	case "route_name":
		return str(x.RouteName)
	case "virtual_host_name":
		return str(x.VirtualHostName)
	case "filter_chain_name":
		return str(x.FilterChainName)
	case "listener_direction":
		return leaf(rest[1:], intB(x.ListenerDirection))
	case "node":
		if len(rest) < 2 {
			return nil, statusSerializationFailed // a whole Node proto: hostsim does not encode protobuf
		}
		switch rest[1] {
		case "id":
			return leaf(rest[2:], strB(x.NodeID))
		case "metadata":
			if len(rest) == 3 {
				if val, ok := x.NodeMetadata[rest[2]]; ok {
					return propString(val)
				}
				return notFound()
			}
			if len(rest) == 2 {
				var m Headers
				for k, val := range x.NodeMetadata {
					m = append(m, [2]string{k, val})
				}
				return EncodePairs(m), statusOK
			}
		}
	}
	return notFound()
}

// requestProperty answers request.* from the live request header map: after the headers were continued they
// are gone (NotFound), except in proxy_on_log where everything is available (HOSTABI §3.4).
func (s *Stream) requestProperty(rest []string) ([]byte, uint32) {
	if len(rest) == 0 {
		return nil, statusSerializationFailed
	}
	d := &s.dirs[0]
	live := s.logging || d.phase == phaseHeaders || d.hstate == hStopAll || d.hstate == hStopIter
	switch rest[0] {
	case "size":
		return leaf(rest[1:], intB(int64(len(d.forwarded)+len(d.body))))
	case "total_size":
		return leaf(rest[1:], intB(int64(len(d.forwarded)+len(d.body)+pairsSize(d.headers))))
	case "time":
		return leaf(rest[1:], intB(s.startUnix))
	case "duration":
		return leaf(rest[1:], intB(s.host.clock.Nanotime()-s.startNs))
	case "protocol":
		return leaf(rest[1:], strB("HTTP/1.1"))
	}
	if !live || d.headers == nil {
		return notFound()
	}
	hv := func(k string) ([]byte, uint32) {
		val, ok := d.headers.Get(k)
		if !ok {
			return notFound()
		}
		return leaf(rest[1:], strB(val))
	}
	switch rest[0] {
	case "path":
		return hv(":path")
	case "url_path":
		p, ok := d.headers.Get(":path")
		if !ok {
			return notFound()
		}
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		return leaf(rest[1:], strB(p))
	case "query":
		p, _ := d.headers.Get(":path")
		q := ""
		if i := strings.IndexByte(p, '?'); i >= 0 {
			q = p[i+1:]
		}
		return leaf(rest[1:], strB(q))
	case "host":
		return hv(":authority")
	case "scheme":
		return hv(":scheme")
	case "method":
		return hv(":method")
	case "referer":
		return hv("referer")
	case "useragent":
		return hv("user-agent")
	case "id":
		return hv("x-request-id")
	case "headers":
		if len(rest) == 1 {
			return propHeaders(d.headers)
		}
		var vals []string
		for _, kv := range d.headers {
			if kv[0] == strings.ToLower(rest[1]) {
				vals = append(vals, kv[1])
			}
		}
		if len(vals) == 0 {
			return notFound()
		}
		return leaf(rest[2:], strB(strings.Join(vals, ",")))
	case "headers_bytes":
		return leaf(rest[1:], intB(int64(pairsSize(d.headers))))
	}
	return notFound()
}

func (s *Stream) responseProperty(rest []string) ([]byte, uint32) {
	if len(rest) == 0 {
		return nil, statusSerializationFailed
	}
	d := &s.dirs[1]
	if d.hstate == hNone {
		return notFound()
	}
	switch rest[0] {
	case "code":
		code, err := strconv.ParseInt(d.headers.Value(":status"), 10, 64)
		if err != nil {
			return notFound()
		}
		return leaf(rest[1:], intB(code))
	case "code_details":
		details := "via_upstream"
		if s.reply != nil {
			details = s.reply.Details
		}
		return leaf(rest[1:], strB(details))
	case "size":
		return leaf(rest[1:], intB(int64(len(d.forwarded)+len(d.body))))
	case "headers":
		return propHeaderEntry(d.headers, rest)
	case "trailers":
		return propHeaderEntry(d.trailers, rest)
	case "grpc_status":
		return notFound()
	}
	return notFound()
}
