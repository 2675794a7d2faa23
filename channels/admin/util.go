package admin

import (
	"net/url"
	"strconv"
)

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

func urlQuery(s string) string { return url.QueryEscape(s) }
