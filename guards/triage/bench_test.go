package triage

import (
	"os"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tend-health/tend/bot"
)

var benchMessages = map[string]string{
	"ordinary":  "Hi, how much does a new patient visit cost if I don't have insurance?",
	"lookalike": "I have a pacemaker, can I get an MRI? my cardiologist said chest x-rays are fine",
	"emergency": "I'm having chest pain right now and it's going down my left arm",
	"spanish":   "hola, me duele mucho el pecho y no puedo respirar bien",
	"advice":    "how much tylenol can i give my 4 year old",
	"long4000":  strings.Repeat("my appointment is next week and I want to know about parking and the copay. ", 52),
}

// BenchmarkClassify is the rules' work per message.
func BenchmarkClassify(b *testing.B) {
	m := matcher(b)
	for name, text := range benchMessages {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m.Classify(text)
			}
		})
	}
}

// BenchmarkGuardCheck is what the guard adds to every ordinary message
// (one that is neither an emergency nor a request for advice).
func BenchmarkGuardCheck(b *testing.B) {
	g := NewGuard(matcher(b), nil, nil)
	t := &bot.Turn{In: bot.Inbound{Text: benchMessages["ordinary"]}} // an ordinary message never reaches the conversation
	b.ReportAllocs()
	for b.Loop() {
		if stop, err := g.Check(t); stop || err != nil {
			b.Fatal(stop, err)
		}
	}
}

// BenchmarkCompile is the start-up cost of the built-in rules.
func BenchmarkCompile(b *testing.B) {
	f, err := Builtin()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		Compile(f)
	}
}

// BenchmarkDetect is the whole decision per message: the rules, then the
// learned detector (concept slots, context cues, sentence vector,
// neighbours, words) when the rules find no emergency.
func BenchmarkDetect(b *testing.B) {
	d := NewDetector(matcher(b))
	for name, text := range benchMessages {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				d.Classify(text)
			}
		})
	}
}

// BenchmarkDetectBefore is the decision before the learned detector (the
// rules, then the concept rules), to compare with BenchmarkDetect.
func BenchmarkDetectBefore(b *testing.B) {
	d := NewDetector(matcher(b))
	for name, text := range benchMessages {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				d.classifyBefore(text)
			}
		})
	}
}

// BenchmarkLearnedParts is the learned detector's parts for an ordinary
// message: the concept analysis and features, the sentence vector, the
// neighbour search.
func BenchmarkLearnedParts(b *testing.B) {
	d := NewDetector(matcher(b))
	text := benchMessages["ordinary"]
	b.Run("analysis+features", func(b *testing.B) {
		ra := d.rules.analyze(text)
		x := make([]float64, len(d.concepts.staticNames()))
		for b.Loop() {
			d.concepts.static(d.concepts.m.analyze(text), ra, x)
		}
	})
	b.Run("sentence-vector", func(b *testing.B) {
		for b.Loop() {
			sentenceVector(text, "en")
		}
	})
	q := d.learned.proj.apply(sentenceVector(text, "en"), nil)
	x := make([]float64, len(knnNames))
	b.Run("neighbours", func(b *testing.B) {
		for b.Loop() {
			d.learned.bank.features(q, -1, x)
		}
	})
}

// TestDetectCPUTime prints the CPU time per message of the detector before
// the learned one and of the detector now, on one thread, the fastest of
// five runs (a busy machine disturbs it less than wall-clock benchmarks).
// Set TEND_TRIAGE_CPU=1 (Linux).
func TestDetectCPUTime(t *testing.T) {
	if os.Getenv("TEND_TRIAGE_CPU") == "" {
		t.Skip("set TEND_TRIAGE_CPU=1")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	threadCPU := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(1, &ru) // RUSAGE_THREAD
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	d := detector(t)
	names := make([]string, 0, len(benchMessages))
	for n := range benchMessages {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		n := 3000
		if len(benchMessages[name]) > 1000 {
			n = 300
		}
		for _, v := range []struct {
			name     string
			classify func(string) Result
		}{{"before", d.classifyBefore}, {"now", d.Classify}} {
			best := time.Hour
			for range 5 {
				start := threadCPU()
				for range n {
					v.classify(benchMessages[name])
				}
				best = min(best, (threadCPU()-start)/time.Duration(n))
			}
			t.Logf("%-10s %-7s %8.1f µs", name, v.name, float64(best.Nanoseconds())/1000)
		}
	}
}
