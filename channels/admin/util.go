package admin

import (
	"net/url"
	"strconv"
)

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

func urlQuery(s string) string { return url.QueryEscape(s) }

// userError is a refusal whose text is for the person who asked (a 400 or
// a page's problem line), as opposed to a failure that is logged.
type userError string

func (e userError) Error() string { return string(e) }
