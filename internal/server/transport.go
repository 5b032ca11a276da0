package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"okrgraph/internal/apperr"
)

// Response media types (GraphQL over HTTP, "Media Types").
const (
	MediaTypeGraphQLResponse = "application/graphql-response+json"
	MediaTypeJSON            = "application/json"
)

// DefaultMaxBodyBytes is the request body limit used when none is configured.
const DefaultMaxBodyBytes int64 = 1 << 20

// Error codes (extensions.code) produced by this package, in addition to the
// product codes and gqlgen's GRAPHQL_PARSE_FAILED / GRAPHQL_VALIDATION_FAILED.
// The product codes are apperr's, so the HTTP layer and the domain
// services cannot drift apart.
const (
	CodeUnauthenticated = apperr.CodeUnauthenticated
	CodeForbidden       = apperr.CodeForbidden
	CodeNotFound        = apperr.CodeNotFound
	CodeBadUserInput    = apperr.CodeBadUserInput
	CodeConflict        = apperr.CodeConflict
	CodeInternal        = apperr.CodeInternal
	// CodeBadRequest marks HTTP-level protocol errors: malformed body or
	// parameters, wrong method, media type, size (the HTTP status tells which).
	CodeBadRequest = "BAD_REQUEST"
	// CodeOperationNotSupported marks operations this transport cannot serve
	// (subscriptions).
	CodeOperationNotSupported = "OPERATION_NOT_SUPPORTED"
)

const allowedMethods = "GET, POST, OPTIONS"

// defaultCodeStatus maps extensions.code to the HTTP status used for
// application/graphql-response+json responses without data.
var defaultCodeStatus = map[string]int{
	errcode.ParseFailed:         http.StatusBadRequest,
	errcode.ValidationFailed:    http.StatusBadRequest,
	"COMPLEXITY_LIMIT_EXCEEDED": http.StatusBadRequest,
	CodeQueryTooCostly:          http.StatusBadRequest,
	CodeTooManyRequests:         http.StatusTooManyRequests,
	CodeTimeout:                 http.StatusServiceUnavailable,
	"PERSISTED_QUERY_NOT_FOUND": http.StatusBadRequest,
	CodeBadRequest:              http.StatusBadRequest,
	CodeBadUserInput:            http.StatusBadRequest,
	CodeOperationNotSupported:   http.StatusBadRequest,
	CodeUnauthenticated:         http.StatusUnauthorized,
	CodeForbidden:               http.StatusForbidden,
	CodeNotFound:                http.StatusNotFound,
	CodeConflict:                http.StatusConflict,
	CodeInternal:                http.StatusInternalServerError,
}

// Transport serves GraphQL over HTTP (GET and POST with application/json
// bodies) following https://graphql.github.io/graphql-over-http/draft/.
// It is a graphql.Transport for gqlgen's handler.Server and is meant to be
// the only HTTP transport: it claims every request except WebSocket upgrades,
// so that unsupported methods and media types get proper 405/415 answers
// instead of gqlgen's generic 400 "transport not supported".
//
// Response media type is negotiated from Accept (q-values honoured; 406 when
// neither supported type is acceptable). Following the spec's rule for
// legacy clients, a request without Accept, or whose Accept names neither
// type but only wildcards (*/*, application/*), gets application/json;
// application/graphql-response+json is used when the client asks for it.
//
// Status codes:
//   - HTTP-level problems, both media types: 405 (method; GET with a
//     mutation/subscription → 405 with Allow: POST), 406, 413, 415, and 400
//     for an unparseable body or malformed parameters (missing/non-string
//     query, non-object variables/extensions, ...).
//   - application/graphql-response+json: 200 when the response has data
//     (PartialSuccessStatus when it also has errors); otherwise a 4xx/5xx
//     derived from extensions.code (parse/validation errors → 400,
//     FORBIDDEN → 403, ...; unknown → 400).
//   - application/json: 200 for every well-formed request.
//
// A response without data omits the "data" key (gqlgen writes "data": null).
type Transport struct {
	// MaxBodyBytes limits POST bodies (413 beyond it). 0 means
	// DefaultMaxBodyBytes; negative means no limit.
	MaxBodyBytes int64

	// StatusForCode overrides or extends the extensions.code → HTTP status
	// table used for application/graphql-response+json responses without
	// data (e.g. {"GRAPHQL_VALIDATION_FAILED": 422}).
	StatusForCode map[string]int

	// Timeout is the execution deadline of a request (none when 0): past
	// it the request's context is cancelled, and the answer is a single
	// QUERY_TIMEOUT error (503 for application/graphql-response+json).
	Timeout time.Duration

	// PartialSuccessStatus is the status for an application/graphql-response+json
	// response carrying both data and errors. 0 means 200. (Newer drafts of the
	// spec recommend 294.)
	PartialSuccessStatus int
}

var _ graphql.Transport = Transport{}

// Supports claims every request except WebSocket upgrades (not supported).
func (t Transport) Supports(r *http.Request) bool {
	return !headerHasToken(r.Header, "Upgrade", "websocket")
}

// Do implements graphql.Transport.
func (t Transport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	addVary(w.Header(), "Accept")
	mediaType, acceptable := negotiate(r.Header)

	switch r.Method {
	case http.MethodGet, http.MethodPost:
	case http.MethodOptions:
		w.Header().Set("Allow", allowedMethods)
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		w.Header().Set("Allow", allowedMethods)
		if !acceptable {
			mediaType = MediaTypeJSON
		}
		writeError(w, mediaType, http.StatusMethodNotAllowed, CodeBadRequest,
			"method "+r.Method+" is not allowed; use GET or POST")
		return
	}
	if !acceptable {
		writeError(w, MediaTypeJSON, http.StatusNotAcceptable, CodeBadRequest,
			"none of the Accept media types is supported; accept "+
				MediaTypeGraphQLResponse+" or "+MediaTypeJSON)
		return
	}
	// A panic while executing (outside resolvers, which gqlgen recovers per
	// field) becomes a 500 in the negotiated media type, presented by the
	// executor's RecoverFunc and ErrorPresenter when available, instead of
	// reaching handler.Server's fallback (which writes "data": null and no
	// Content-Type).
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		if p == http.ErrAbortHandler {
			panic(p)
		}
		var gqlErr *gqlerror.Error
		if pr, ok := exec.(interface {
			PresentRecoveredError(ctx context.Context, err any) error
		}); ok {
			gqlErr, _ = pr.PresentRecoveredError(r.Context(), p).(*gqlerror.Error)
		}
		if gqlErr == nil {
			gqlErr = codedError(CodeInternal, "internal server error")
		}
		writeJSON(w, mediaType, http.StatusInternalServerError, &graphql.Response{Errors: gqlerror.List{gqlErr}})
	}()

	start := graphql.Now()
	var params *graphql.RawParams
	var perr *paramError
	if r.Method == http.MethodGet {
		params, perr = paramsFromQuery(r.URL.RawQuery)
	} else {
		params, perr = t.paramsFromBody(w, r)
	}
	if perr != nil {
		writeError(w, mediaType, perr.status, CodeBadRequest, perr.msg)
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	ctx := r.Context()
	if t.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, t.Timeout, errRequestTimeout)
		defer cancel()
	}
	opCtx, reqErrs := exec.CreateOperationContext(ctx, params)

	// GET must never run anything but a query. Check this even when the
	// request failed later (e.g. variable coercion): the method rule wins.
	if r.Method == http.MethodGet && opCtx != nil && opCtx.Operation != nil &&
		opCtx.Operation.Operation != ast.Query {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, mediaType, http.StatusMethodNotAllowed, CodeBadRequest,
			"GET supports only query operations; send "+
				string(opCtx.Operation.Operation)+" operations with POST")
		return
	}

	if reqErrs == nil && opCtx.Operation.Operation == ast.Subscription {
		err := gqlerror.Errorf("subscriptions are not supported")
		errcode.Set(err, CodeOperationNotSupported)
		reqErrs = gqlerror.List{err}
	}
	if reqErrs != nil {
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), reqErrs)
		t.writeResponse(w, mediaType, resp)
		return
	}

	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	// Only single-result operations are served: incremental delivery
	// (@defer) would need multipart/mixed.
	resp := responses(ctx)
	if errors.Is(context.Cause(ctx), errRequestTimeout) {
		// Whatever was resolved before the deadline is dropped: the
		// answer is the timeout, not a partial result full of errors.
		writeError(w, mediaType, http.StatusServiceUnavailable, CodeTimeout,
			"the request ran past its "+t.Timeout.String()+" execution deadline and was cancelled")
		return
	}
	if resp == nil {
		writeError(w, mediaType, http.StatusInternalServerError, CodeInternal, "no response")
		return
	}
	t.writeResponse(w, mediaType, resp)
}

var errRequestTimeout = errors.New("request execution deadline exceeded")

// paramError is an HTTP-level rejection of the request.
type paramError struct {
	status int
	msg    string
}

func badRequest(msg string) *paramError {
	return &paramError{status: http.StatusBadRequest, msg: msg}
}

func (t Transport) maxBodyBytes() int64 {
	if t.MaxBodyBytes == 0 {
		return DefaultMaxBodyBytes
	}
	return t.MaxBodyBytes
}

func (t Transport) paramsFromBody(w http.ResponseWriter, r *http.Request) (*graphql.RawParams, *paramError) {
	unsupported := func(msg string) *paramError {
		return &paramError{status: http.StatusUnsupportedMediaType, msg: msg}
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil, unsupported("missing Content-Type; send " + MediaTypeJSON)
	}
	mt, mtParams, err := mime.ParseMediaType(ct)
	if err != nil || mt != MediaTypeJSON {
		return nil, unsupported("unsupported Content-Type; send " + MediaTypeJSON)
	}
	if cs, ok := mtParams["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return nil, unsupported("unsupported charset; send utf-8")
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return nil, unsupported("unsupported Content-Encoding")
	}

	limit := t.maxBodyBytes()
	tooLarge := &paramError{
		status: http.StatusRequestEntityTooLarge,
		msg:    "request body exceeds " + strconv.FormatInt(limit, 10) + " bytes",
	}
	body := r.Body
	if limit > 0 {
		if r.ContentLength > limit {
			return nil, tooLarge
		}
		body = http.MaxBytesReader(w, r.Body, limit)
	}
	data, err := io.ReadAll(body)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, tooLarge
		}
		return nil, badRequest("could not read request body")
	}

	var fields map[string]json.RawMessage
	if err := decodeJSON(data, &fields); err != nil || fields == nil {
		return nil, badRequest("request body is not a JSON object")
	}
	p := &graphql.RawParams{}
	if perr := stringParam(fields["query"], "query", &p.Query); perr != nil {
		return nil, perr
	}
	if perr := stringParam(fields["operationName"], "operationName", &p.OperationName); perr != nil {
		return nil, perr
	}
	if perr := objectParam(fields["variables"], "variables", &p.Variables); perr != nil {
		return nil, perr
	}
	if perr := objectParam(fields["extensions"], "extensions", &p.Extensions); perr != nil {
		return nil, perr
	}
	if perr := requireQuery(p, !isNull(fields["query"])); perr != nil {
		return nil, perr
	}
	return p, nil
}

func paramsFromQuery(rawQuery string) (*graphql.RawParams, *paramError) {
	values, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, badRequest("malformed query string")
	}
	get := func(name string) (string, *paramError) {
		v := values[name]
		if len(v) > 1 {
			return "", badRequest("parameter " + name + " given more than once")
		}
		if len(v) == 0 {
			return "", nil
		}
		return v[0], nil
	}
	p := &graphql.RawParams{}
	var perr *paramError
	if p.Query, perr = get("query"); perr != nil {
		return nil, perr
	}
	if p.OperationName, perr = get("operationName"); perr != nil {
		return nil, perr
	}
	for _, obj := range []struct {
		name string
		dst  *map[string]any
	}{{"variables", &p.Variables}, {"extensions", &p.Extensions}} {
		s, perr := get(obj.name)
		if perr != nil {
			return nil, perr
		}
		if s == "" {
			continue // the empty string means "not given"
		}
		if perr := objectParam(json.RawMessage(s), obj.name, obj.dst); perr != nil {
			return nil, perr
		}
	}
	if perr := requireQuery(p, len(values["query"]) > 0); perr != nil {
		return nil, perr
	}
	return p, nil
}

// requireQuery rejects requests without a query parameter, unless they carry
// an automatic persisted query hash instead. (A present but empty query is
// well-formed and fails later as a GraphQL request error.)
func requireQuery(p *graphql.RawParams, given bool) *paramError {
	if !given && p.Extensions["persistedQuery"] == nil {
		return badRequest("missing query")
	}
	return nil
}

// stringParam decodes an optional string-or-null parameter.
func stringParam(raw json.RawMessage, name string, dst *string) *paramError {
	if isNull(raw) {
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return badRequest(name + " must be a string")
	}
	return nil
}

// objectParam decodes an optional object-or-null parameter, keeping numbers
// as json.Number as gqlgen's input coercion expects.
func objectParam(raw json.RawMessage, name string, dst *map[string]any) *paramError {
	if isNull(raw) {
		return nil
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return badRequest(name + " must be a JSON object")
	}
	if err := decodeJSON(raw, dst); err != nil {
		return badRequest(name + " must be a JSON object")
	}
	return nil
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// decodeJSON decodes exactly one JSON value (trailing data is an error).
func decodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after JSON value")
	}
	return nil
}

// writeResponse writes a GraphQL response produced by the executor.
func (t Transport) writeResponse(w http.ResponseWriter, mediaType string, resp *graphql.Response) {
	status := http.StatusOK
	if mediaType == MediaTypeGraphQLResponse {
		switch {
		case len(resp.Data) == 0:
			status = t.statusForErrors(resp.Errors)
		case len(resp.Errors) > 0 && t.PartialSuccessStatus != 0:
			status = t.PartialSuccessStatus
		}
	}
	writeJSON(w, mediaType, status, resp)
}

// statusForErrors picks the status for a response without data: the first
// 4xx mapped from an error code, else the first 5xx, else 400.
func (t Transport) statusForErrors(errs gqlerror.List) int {
	first5xx := 0
	for _, e := range errs {
		code, _ := e.Extensions["code"].(string)
		status, ok := t.StatusForCode[code]
		if !ok {
			status, ok = defaultCodeStatus[code]
		}
		switch {
		case !ok:
		case status >= 400 && status < 500:
			return status
		case status >= 500 && first5xx == 0:
			first5xx = status
		}
	}
	if first5xx != 0 {
		return first5xx
	}
	return http.StatusBadRequest
}

// wireResponse is graphql.Response with "data" omitted when absent: a
// request error must not produce a data entry (GraphQL spec, "Response").
type wireResponse struct {
	Errors     gqlerror.List   `json:"errors,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
	Label      string          `json:"label,omitempty"`
	Path       ast.Path        `json:"path,omitempty"`
	HasNext    *bool           `json:"hasNext,omitempty"`
	Extensions map[string]any  `json:"extensions,omitempty"`
}

func writeJSON(w http.ResponseWriter, mediaType string, status int, resp *graphql.Response) {
	b, err := marshalResponse(resp)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(wireResponse{Errors: gqlerror.List{codedError(CodeInternal, "internal server error")}})
	}
	h := w.Header()
	h.Set("Content-Type", contentType(mediaType))
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// marshalResponse writes resp as json.Marshal writes its wireResponse,
// but splices the data in instead of running it through encoding/json's
// validating compaction (a whole tree is megabytes): the data is compact
// JSON written by gqlgen's marshalers (or graph.FastPath), so only the
// escaping json.Marshal applies to a RawMessage is left to do (<, >, &,
// U+2028, U+2029). TestMarshalResponse compares the two.
func marshalResponse(resp *graphql.Response) ([]byte, error) {
	head, err := json.Marshal(wireResponse{Errors: resp.Errors})
	if err != nil || len(resp.Data) == 0 {
		if err == nil {
			return json.Marshal(wireResponse{Errors: resp.Errors, Label: resp.Label, Path: resp.Path, HasNext: resp.HasNext, Extensions: resp.Extensions})
		}
		return nil, err
	}
	tail, err := json.Marshal(wireResponse{Label: resp.Label, Path: resp.Path, HasNext: resp.HasNext, Extensions: resp.Extensions})
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(head)+len(resp.Data)+len(tail)+len(resp.Data)/64+16)
	b = append(b, head[:len(head)-1]...) // without its closing brace
	if len(head) > 2 {
		b = append(b, ',')
	}
	b = append(b, `"data":`...)
	b = appendEscapedJSON(b, resp.Data)
	if len(tail) > 2 {
		b = append(b, ',')
		b = append(b, tail[1:]...)
	} else {
		b = append(b, '}')
	}
	return b, nil
}

// appendEscapedJSON appends compact JSON with the escapes json.Marshal
// writes into an embedded RawMessage: <, > and & as \u003c, \u003e,
// \u0026, and U+2028/U+2029 as \u2028/\u2029.
func appendEscapedJSON(b, src []byte) []byte {
	const hex = "0123456789abcdef"
	start := 0
	for i := 0; i < len(src); i++ {
		switch c := src[i]; {
		case c == '<' || c == '>' || c == '&':
			b = append(b, src[start:i]...)
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			start = i + 1
		case c == 0xE2 && i+2 < len(src) && src[i+1] == 0x80 && src[i+2]&^1 == 0xA8:
			b = append(b, src[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[src[i+2]&0xF])
			i += 2
			start = i + 1
		}
	}
	return append(b, src[start:]...)
}

// writeError writes a GraphQL-shaped error response:
// {"errors":[{"message":msg,"extensions":{"code":code}}]}.
func writeError(w http.ResponseWriter, mediaType string, status int, code, msg string) {
	writeJSON(w, mediaType, status, &graphql.Response{Errors: gqlerror.List{codedError(code, msg)}})
}

func codedError(code, msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
}

func contentType(mediaType string) string {
	return mediaType + "; charset=utf-8"
}

// negotiate picks the response media type from the Accept header (RFC 9110
// §12.5.1): each offer gets the q of the most specific matching range and
// the highest q > 0 wins. On a tie the offer the client named explicitly
// wins; when both are named application/graphql-response+json wins, when
// neither is (only wildcards) application/json does. No Accept header means
// application/json (GraphQL over HTTP: legacy clients that send no Accept,
// or */*, expect application/json). ok is false when neither offer is
// acceptable.
func negotiate(h http.Header) (mediaType string, ok bool) {
	accept := strings.Join(h.Values("Accept"), ",")
	if strings.TrimSpace(accept) == "" {
		return MediaTypeJSON, true
	}
	offers := [...]string{MediaTypeGraphQLResponse, MediaTypeJSON}
	var q [len(offers)]float64
	var specificity [len(offers)]int
	for i := range specificity {
		specificity[i] = -1
	}
	for part := range strings.SplitSeq(accept, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		rng, params, err := mime.ParseMediaType(part)
		if err != nil {
			continue
		}
		if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
			continue // we only produce UTF-8
		}
		weight := 1.0
		if qs, ok := params["q"]; ok {
			weight, err = strconv.ParseFloat(qs, 64)
			if err != nil || weight < 0 || weight > 1 {
				continue
			}
		}
		for i, offer := range offers {
			s := matchMediaRange(rng, offer)
			if s > specificity[i] {
				specificity[i], q[i] = s, weight
			}
		}
	}
	const grj, jsn = 0, 1
	okGRJ := specificity[grj] >= 0 && q[grj] > 0
	okJSON := specificity[jsn] >= 0 && q[jsn] > 0
	switch {
	case !okGRJ && !okJSON:
		return "", false
	case !okJSON || okGRJ && q[grj] > q[jsn]:
		return MediaTypeGraphQLResponse, true
	case !okGRJ || q[jsn] > q[grj]:
		return MediaTypeJSON, true
	case specificity[grj] == 2 && specificity[grj] >= specificity[jsn]:
		return MediaTypeGraphQLResponse, true // named explicitly
	default:
		return MediaTypeJSON, true // named explicitly, or wildcards only
	}
}

// matchMediaRange returns how specifically rng matches mediaType: 2 exact,
// 1 type/*, 0 */*, -1 no match.
func matchMediaRange(rng, mediaType string) int {
	if rng == mediaType {
		return 2
	}
	if rng == "*/*" {
		return 0
	}
	if typ, sub, _ := strings.Cut(rng, "/"); sub == "*" && strings.HasPrefix(mediaType, typ+"/") {
		return 1
	}
	return -1
}

// addVary adds name to the Vary header unless it is already listed.
func addVary(h http.Header, name string) {
	if !headerHasToken(h, "Vary", name) {
		h.Add("Vary", name)
	}
}

// headerHasToken reports whether a comma-separated header contains token.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
