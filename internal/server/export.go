package server

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"okrgraph/internal/apperr"
	"okrgraph/internal/okr"
)

// authenticateExport authenticates /export/ requests like /graphql ones
// (bearer token, X-Org); errors are answered as JSON.
func (s *Server) authenticateExport(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, ok := s.identifyRequest(w, r, MediaTypeJSON)
		if !ok {
			return
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// TreeSource reads the viewer's flat tree row by row (okr.Service.Tree).
type TreeSource func(ctx context.Context, opts okr.TreeOptions, each func(*okr.TreeRow) error) error

// ExportHandler serves the flat OKR tree for BI tools that read a URL:
// GET /export/tree.ndjson (one JSON object per line) and
// GET /export/tree.csv (a header line, then one line per item), with the
// optional query parameters rootId and maxItems of Query.okrTree. Rows are
// written as the database returns them, never buffered whole. Errors found
// before the first row are answered with a status and a JSON error; an
// error after rows were sent (the tree outgrew maxItems) ends an NDJSON
// stream with an {"error": ...} line and aborts the response, so a client
// never takes a partial file for a whole one.
func ExportHandler(tree TreeSource) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /export/tree.ndjson", func(w http.ResponseWriter, r *http.Request) {
		exportTree(w, r, tree, "application/x-ndjson", newNDJSONWriter)
	})
	mux.HandleFunc("GET /export/tree.csv", func(w http.ResponseWriter, r *http.Request) {
		exportTree(w, r, tree, "text/csv", newCSVWriter)
	})
	return mux
}

type rowWriter interface {
	header() error
	row(*okr.TreeRow) error
	fail(code, msg string)
}

const exportFlushEvery = 512

func exportTree(w http.ResponseWriter, r *http.Request, tree TreeSource, mediaType string, mk func(*bufio.Writer) rowWriter) {
	var opts okr.TreeOptions
	q := r.URL.Query()
	if v := q.Get("rootId"); v != "" {
		id, err := strconv.Atoi(v)
		if err != nil || id <= 0 {
			writeError(w, MediaTypeJSON, http.StatusBadRequest, CodeBadRequest, "rootId must be an item id")
			return
		}
		opts.RootID = &id
	}
	if v := q.Get("maxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			writeError(w, MediaTypeJSON, http.StatusBadRequest, CodeBadRequest, "maxItems must be a positive integer")
			return
		}
		opts.MaxItems = n
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	out := mk(bw)
	flusher, _ := w.(http.Flusher)
	n := 0
	started := false
	start := func() error {
		started = true
		w.Header().Set("Content-Type", mediaType+"; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		return out.header()
	}
	err := tree(r.Context(), opts, func(row *okr.TreeRow) error {
		if !started {
			if err := start(); err != nil {
				return err
			}
		}
		if err := out.row(row); err != nil {
			return err
		}
		if n++; n%exportFlushEvery == 0 {
			if err := bw.Flush(); err != nil {
				return err
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
		return nil
	})
	if err == nil && !started {
		err = start() // an empty tree: the header alone
	}
	if err == nil {
		_ = bw.Flush()
		return
	}
	ae, coded := apperr.As(err)
	if !started {
		status, code, msg := http.StatusInternalServerError, CodeInternal, "internal server error"
		if coded {
			msg = ae.Message
			code = ae.Code
			status = http.StatusBadRequest
			switch ae.Code {
			case apperr.CodeNotFound:
				status = http.StatusNotFound
			case apperr.CodeUnauthenticated:
				status = http.StatusUnauthorized
			case apperr.CodeForbidden:
				status = http.StatusForbidden
			}
		}
		writeError(w, MediaTypeJSON, status, code, msg)
		return
	}
	if coded {
		out.fail(ae.Code, ae.Message)
	} else if !errors.Is(err, context.Canceled) {
		out.fail(CodeInternal, "internal server error")
	}
	_ = bw.Flush()
	// Abort: the client sees a broken transfer, not a complete file.
	panic(http.ErrAbortHandler)
}

// NDJSON

type ndjsonWriter struct {
	w   *bufio.Writer
	buf []byte
}

func newNDJSONWriter(w *bufio.Writer) rowWriter { return &ndjsonWriter{w: w} }

func (n *ndjsonWriter) header() error { return nil }

func (n *ndjsonWriter) row(r *okr.TreeRow) error {
	b := n.buf[:0]
	b = append(b, `{"id":"`...)
	b = strconv.AppendInt(b, int64(r.ID), 10)
	b = append(b, `","parentId":`...)
	b = appendIDPtr(b, r.ParentID)
	b = append(b, `,"depth":`...)
	b = strconv.AppendInt(b, int64(r.Depth), 10)
	b = append(b, `,"ordinal":`...)
	b = strconv.AppendInt(b, int64(r.Ordinal), 10)
	b = append(b, `,"path":`...)
	b = strconv.AppendQuote(b, r.Path)
	b = append(b, `,"kind":"`...)
	b = append(b, r.Kind...)
	b = append(b, `","level":"`...)
	b = append(b, r.Level...)
	b = append(b, `","title":`...)
	b = appendJSONString(b, r.Title)
	b = append(b, `,"status":"`...)
	b = append(b, r.Status...)
	b = append(b, `","progress":`...)
	b = strconv.AppendFloat(b, r.Progress, 'g', -1, 64)
	b = append(b, `,"progressMode":"`...)
	b = append(b, r.ProgressMode...)
	b = append(b, `","weight":`...)
	b = appendFloatPtr(b, r.Weight)
	b = append(b, `,"metricStart":`...)
	b = appendFloatPtr(b, r.MetricStart)
	b = append(b, `,"metricTarget":`...)
	b = appendFloatPtr(b, r.MetricTarget)
	b = append(b, `,"metricCurrent":`...)
	b = appendFloatPtr(b, r.MetricCurrent)
	b = append(b, `,"unit":`...)
	b = appendJSONString(b, r.Unit)
	b = append(b, `,"private":`...)
	b = strconv.AppendBool(b, r.Private)
	b = append(b, `,"timePeriodId":`...)
	b = appendIDPtr(b, r.TimePeriodID)
	b = append(b, `,"ownerIds":[`...)
	for i, o := range r.OwnerIDs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = strconv.AppendInt(b, int64(o), 10)
		b = append(b, '"')
	}
	b = append(b, "]}\n"...)
	n.buf = b
	_, err := n.w.Write(b)
	return err
}

func (n *ndjsonWriter) fail(code, msg string) {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": msg}})
	_, _ = n.w.Write(append(b, '\n'))
}

func appendIDPtr(b []byte, v *int) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = strconv.AppendInt(b, int64(*v), 10)
	return append(b, '"')
}

func appendFloatPtr(b []byte, v *float64) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, *v, 'g', -1, 64)
}

// appendJSONString appends s as a JSON string (encoding/json's escaping).
func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}

// CSV

// csvColumns are the CSV header; ownerIds are joined by spaces.
var csvColumns = []string{"id", "parentId", "depth", "ordinal", "path", "kind", "level", "title", "status",
	"progress", "progressMode", "weight", "metricStart", "metricTarget", "metricCurrent", "unit", "private",
	"timePeriodId", "ownerIds"}

type csvWriter struct {
	w   *csv.Writer
	rec []string
	sb  strings.Builder
}

func newCSVWriter(w *bufio.Writer) rowWriter {
	return &csvWriter{w: csv.NewWriter(w), rec: make([]string, len(csvColumns))}
}

func (c *csvWriter) header() error { return c.w.Write(csvColumns) }

func (c *csvWriter) row(r *okr.TreeRow) error {
	rec := c.rec
	rec[0] = strconv.Itoa(r.ID)
	rec[1] = intPtrString(r.ParentID)
	rec[2] = strconv.Itoa(r.Depth)
	rec[3] = strconv.Itoa(r.Ordinal)
	rec[4] = r.Path
	rec[5] = string(r.Kind)
	rec[6] = string(r.Level)
	rec[7] = csvSafe(r.Title)
	rec[8] = string(r.Status)
	rec[9] = strconv.FormatFloat(r.Progress, 'g', -1, 64)
	rec[10] = string(r.ProgressMode)
	rec[11] = floatPtrString(r.Weight)
	rec[12] = floatPtrString(r.MetricStart)
	rec[13] = floatPtrString(r.MetricTarget)
	rec[14] = floatPtrString(r.MetricCurrent)
	rec[15] = csvSafe(r.Unit)
	rec[16] = strconv.FormatBool(r.Private)
	rec[17] = intPtrString(r.TimePeriodID)
	c.sb.Reset()
	for i, o := range r.OwnerIDs {
		if i > 0 {
			c.sb.WriteByte(' ')
		}
		c.sb.WriteString(strconv.Itoa(o))
	}
	rec[18] = c.sb.String()
	if err := c.w.Write(rec); err != nil {
		return err
	}
	c.w.Flush() // into the bufio.Writer, which batches the network writes
	return c.w.Error()
}

func (c *csvWriter) fail(string, string) { c.w.Flush() }

// csvSafe defuses spreadsheet formulas in user text: a cell starting with
// =, +, - or @ gets a leading apostrophe (OWASP CSV injection).
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func intPtrString(v *int) string {
	if v == nil {
		return ""
	}
	return strconv.Itoa(*v)
}

func floatPtrString(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'g', -1, 64)
}
