package audit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tend-health/tend/internal/store"
)

// Report is what Verify found.
type Report struct {
	// Rows is how many rows were checked.
	Rows int64 `json:"rows"`
	// HeadSeq and HeadHash are the head row's; they name the whole chain
	// (note them somewhere else to check later that nothing was rewritten).
	HeadSeq  int64  `json:"head_seq"`
	HeadHash string `json:"head_hash"`
	// Broken is the first place the chain breaks; nil when it holds.
	Broken *Break `json:"broken,omitempty"`
}

// OK reports whether the chain holds.
func (r Report) OK() bool { return r.Broken == nil }

// Break names the first row where the chain does not hold, and why.
type Break struct {
	Seq    int64  `json:"seq"`
	Reason string `json:"reason"`
}

// Anchor is a row's hash noted earlier outside the database (a previous
// `tend audit verify`, a log line): Verify checks the row still has it, so
// a chain rewritten from that row on is caught too.
type Anchor struct {
	Seq  int64
	Hash string
}

// ParseAnchor reads "SEQ:HASH".
func ParseAnchor(s string) (Anchor, error) {
	seq, hash, ok := strings.Cut(strings.TrimSpace(s), ":")
	n, err := strconv.ParseInt(seq, 10, 64)
	if !ok || err != nil || n < 1 || len(hash) != 64 {
		return Anchor{}, errors.New("an anchor is SEQ:HASH, as `tend audit verify` prints the head")
	}
	return Anchor{Seq: n, Hash: strings.ToLower(hash)}, nil
}

// verifyPage is how many rows Verify reads at a time.
const verifyPage = 1000

// Verify walks the chain from the first row: each row's seq follows the one
// before, its previous hash is that row's hash, and its hash is the hash of
// its content. The last row must be the head. It stops at the first break.
func Verify(ctx context.Context, q store.Q, anchors ...Anchor) (Report, error) {
	var rep Report
	var err error
	if rep.HeadSeq, rep.HeadHash, err = Head(ctx, q); err != nil {
		return rep, err
	}
	want := map[int64]string{}
	for _, a := range anchors {
		want[a.Seq] = a.Hash
	}
	prevSeq, prevHash := int64(0), Genesis
	broken := func(seq int64, format string, args ...any) (Report, error) {
		rep.Broken = &Break{Seq: seq, Reason: fmt.Sprintf(format, args...)}
		return rep, nil
	}
	for {
		rows, err := store.Collect[Row](q.Query(ctx, `SELECT `+rowCols+` FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2`,
			prevSeq, verifyPage))(scanRow)
		if err != nil {
			return rep, fmt.Errorf("audit: verify: %w", err)
		}
		for _, r := range rows {
			switch {
			case r.Seq != prevSeq+1:
				return broken(prevSeq+1, "row %d is missing: the chain goes from row %d to row %d", prevSeq+1, prevSeq, r.Seq)
			case r.PrevHash != prevHash:
				return broken(r.Seq, "row %d does not follow row %d: its previous hash is not that row's hash", r.Seq, prevSeq)
			case r.computeHash() != r.Hash:
				return broken(r.Seq, "row %d was changed after it was written: its content does not match its hash", r.Seq)
			}
			if h, ok := want[r.Seq]; ok && h != r.Hash {
				return broken(r.Seq, "row %d does not have the anchored hash %s: the chain was rewritten from there", r.Seq, h)
			}
			delete(want, r.Seq)
			prevSeq, prevHash = r.Seq, r.Hash
			rep.Rows++
		}
		if len(rows) < verifyPage {
			break
		}
	}
	if prevSeq != rep.HeadSeq || prevHash != rep.HeadHash {
		return broken(prevSeq+1, "the chain ends at row %d but its head says row %d: rows at the end were removed or the head was changed",
			prevSeq, rep.HeadSeq)
	}
	for seq := range want {
		return broken(seq, "anchored row %d is not in the chain", seq)
	}
	return rep, nil
}
