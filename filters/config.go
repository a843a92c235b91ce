package filters

import "time"

// Config is the compiled, validated pluginConfig (SPEC §3) with every default
// filled in. It is owned by its Router: read it, never modify it.
type Config struct {
	// Subscribers sorted by name; a subscriber's index here is its id everywhere else.
	Subscribers []Subscriber
	// Routes in config order; the first matching one wins.
	Routes []Route
	// Mirrors in config order; every matching one applies.
	Mirrors []Mirror
	// Publishers are the publisher rules in config order.
	Publishers []Publisher
	// Recognize says which event encodings are looked for.
	Recognize Recognize
	// OnInvalid says what to do with an invalid event.
	OnInvalid OnInvalid
	// HoldHeaders: the host holds request headers while the body is read
	// (Envoy allow_on_headers_stop_iteration), so body-derived routes can apply.
	HoldHeaders bool
	// RouteHeader is the request header that names the chosen subscriber.
	RouteHeader string
	// Broker is broker mode.
	Broker Broker
	// Limits bound bodies, batches, pending deliveries and hops.
	Limits Limits
}

// Subscriber is a destination service.
type Subscriber struct {
	// Name is the key in the subscribers object.
	Name string
	// Cluster is the Envoy cluster that dispatches go to.
	Cluster string
	// Authority is the :authority sent to it (default: Name).
	Authority string
	// Path is the :path sent to it (default "/"); PathSet says whether the config set it.
	Path    string
	PathSet bool
	// Timeout of one delivery attempt (default 5s).
	Timeout time.Duration
	// Format of delivered events (default FormatOriginal).
	Format Format
	// Retry policy (default one attempt).
	Retry Retry
	// DeadLetter is the index of the dead-letter subscriber, or -1.
	DeadLetter int
}

// Retry is a delivery retry policy with exponential backoff.
type Retry struct {
	// Attempts is the total number of attempts, ≥ 1 (1 = no retry).
	Attempts int
	// InitialBackoff (default 100ms) ≤ MaxBackoff (default 5s).
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
}

// Route sends matching events to one subscriber.
type Route struct {
	// Name is unique among routes (metric eventroute.route.<name>.matched).
	Name string
	// Subscriber is the index of the target subscriber.
	Subscriber int
	// NeedsData: the route's match reads the event's data.
	NeedsData bool
}

// Mirror copies matching events to subscribers.
type Mirror struct {
	// Name is unique among mirrors (metric eventroute.mirror.<name>.matched).
	Name string
	// Subscribers are indexes of the targets, in config order, without repeats.
	Subscribers []int
	// Percent of matching events that are mirrored, 0..100 (default 100).
	Percent float64
	// NeedsData: the mirror's match reads the event's data.
	NeedsData bool
}

// Publisher is a publisher rule: events it matches may only come from the
// listed principals (SPIFFE URIs of the downstream peer).
type Publisher struct {
	// Principals allowed to publish the events the rule matches, in config order.
	Principals []string
}

// Recognize lists the enabled encodings.
type Recognize struct {
	// CloudEvents modes; each defaults to true.
	Binary, Structured, Batch bool
	// JSON profiles in config order; the first that fits a request is used.
	JSON []JSONProfile
}

// JSONProfile describes plain JSON events (SPEC §3.2).
type JSONProfile struct {
	// Name is unique among profiles.
	Name string
	// ContentTypes are lower-case media types without parameters.
	ContentTypes []string
	// PathPrefix must prefix the request path (query excluded); "" fits every path.
	PathPrefix string
	// Attributes map CloudEvents attribute names to where their values are read.
	// Always contains "id" and "type".
	Attributes []AttributeSource
	// ReadsBody: some attribute is read from the body.
	ReadsBody bool
}

// AttributeSource says where a JSON profile reads one attribute: a gjson path
// into the body, or a request header.
type AttributeSource struct {
	// Attribute is the CloudEvents attribute name.
	Attribute string
	// Path is the gjson path into the body ("" when Header is set).
	Path string
	// Header is the lower-case request header name ("" when Path is set).
	Header string
}

// OnInvalid is the policy for invalid events.
type OnInvalid uint8

// OnInvalid values.
const (
	OnInvalidReject OnInvalid = iota // answer 400 problem+json (default)
	OnInvalidPass                    // pass the request through untouched, counted
)

// String returns the config spelling.
func (o OnInvalid) String() string {
	if o == OnInvalidPass {
		return "pass"
	}
	return "reject"
}

// Format is the encoding a subscriber receives events in.
type Format uint8

// Format values.
const (
	FormatOriginal   Format = iota // as the event arrived (default)
	FormatBinary                   // CloudEvents binary mode
	FormatStructured               // CloudEvents structured mode (JSON format)
)

// String returns the config spelling.
func (f Format) String() string {
	switch f {
	case FormatBinary:
		return "binary"
	case FormatStructured:
		return "structured"
	default:
		return "original"
	}
}

// Broker is broker mode: the plugin answers the request itself.
type Broker struct {
	// Enabled: answer event requests locally and deliver to matching subscribers.
	Enabled bool
	// Ack says when the answer is sent.
	Ack Ack
}

// Ack says when broker mode answers.
type Ack uint8

// Ack values.
const (
	AckAccepted  Ack = iota // 202 once deliveries are scheduled (default)
	AckDelivered            // after every first attempt ended: 202 or 502
)

// String returns the config spelling.
func (a Ack) String() string {
	if a == AckDelivered {
		return "delivered"
	}
	return "accepted"
}

// Limits bound the plugin's work; every value is > 0.
type Limits struct {
	MaxBodyBytes         int           // default 1 MiB
	MaxBatchEvents       int           // default 1000
	MaxPendingDeliveries int           // default 1024
	MaxPendingBytes      int           // default 16 MiB
	MaxHops              int           // default 1
	HoldTimeout          time.Duration // default 1s
}

// Defaults of SPEC §3.
const (
	DefaultRouteHeader          = "x-eventroute-subscriber"
	DefaultTimeout              = 5 * time.Second
	DefaultInitialBackoff       = 100 * time.Millisecond
	DefaultMaxBackoff           = 5 * time.Second
	DefaultMaxBodyBytes         = 1 << 20
	DefaultMaxBatchEvents       = 1000
	DefaultMaxPendingDeliveries = 1024
	DefaultMaxPendingBytes      = 16 << 20
	DefaultMaxHops              = 1
	DefaultHoldTimeout          = time.Second
)
