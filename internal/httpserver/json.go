package httpserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// MaxJSONBody bounds a JSON request body when JSONOptions.MaxBytes is 0.
const MaxJSONBody = 64 << 10

// JSONOptions adjust DecodeJSON and ReadJSON.
type JSONOptions struct {
	// MaxBytes bounds the body (413 beyond it); 0 means MaxJSONBody.
	MaxBytes int64
	// KnownFieldsOnly refuses objects with fields v does not have.
	KnownFieldsOnly bool
	// Invalid is the 400 message for a body that is not what v expects
	// (default "invalid JSON").
	Invalid string
}

// DecodeJSON reads a request body that must be exactly one JSON value, sent
// as Content-Type: application/json, into v. Every handler that takes JSON
// goes through it (or ReadJSON), so the rules are the same everywhere:
//
//   - 415 unless the media type is exactly application/json (a charset
//     parameter, if any, must be utf-8): a missing type, text/plain or
//     application/jsonp is refused, so an HTML form on another site, which
//     can only send form or text types, never reaches a JSON handler;
//   - 413 over the size bound;
//   - 400 for invalid JSON, a value v cannot hold, or any bytes after the
//     value other than white space (a body is one value, not a stream).
//
// On failure it has written the answer and returns false.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any, o JSONOptions) bool {
	body, ok := ReadJSON(w, r, o)
	if !ok {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if o.KnownFieldsOnly {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		WriteError(w, http.StatusBadRequest, invalidMessage(o))
		return false
	}
	return true
}

// ReadJSON is DecodeJSON's checks without the decoding: it returns the body,
// which is one syntactically valid JSON value, for a handler that parses it
// itself (a schedule, a campaign, a visit or a list of them).
func ReadJSON(w http.ResponseWriter, r *http.Request, o JSONOptions) ([]byte, bool) {
	if !IsJSONContentType(r.Header.Get("Content-Type")) {
		WriteError(w, http.StatusUnsupportedMediaType, "send Content-Type: application/json")
		return nil, false
	}
	limit := o.MaxBytes
	if limit <= 0 {
		limit = MaxJSONBody
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			WriteError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes", limit))
			return nil, false
		}
		WriteError(w, http.StatusBadRequest, "could not read the body")
		return nil, false
	}
	if err := oneValue(body); err != nil {
		WriteError(w, http.StatusBadRequest, err.Error())
		return nil, false
	}
	return body, true
}

// IsJSONContentType reports whether a Content-Type header is
// application/json, with at most a utf-8 charset parameter.
func IsJSONContentType(ct string) bool {
	if ct == "" {
		return false
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return false
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return false
		}
	}
	return true
}

// oneValue checks that body is one JSON value and nothing else.
func oneValue(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return errors.New("invalid JSON")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("invalid JSON: unexpected data after the value")
	}
	return nil
}

func invalidMessage(o JSONOptions) string {
	if o.Invalid != "" {
		return o.Invalid
	}
	return "invalid JSON"
}
