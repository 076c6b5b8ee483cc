// Command bench-peers is the helper of scripts/bench-peers.sh: it finds a free
// loopback port, turns one generator run (the tool's output and /usr/bin/time's
// line) into a row of a TSV file, and prints the markdown tables of the rows.
//
//	bench-peers freeport
//	bench-peers record -tsv F -round R -tool T -out OUT -time TIME [-conns N]
//	bench-peers table -tsv results.tsv [-many many.tsv]
//
// Tools: ours-net and ours-fast (OUT is the harness's run file), wrk (--latency
// text), hey (text), bombardier (-o json -p r), vegeta (report -type=json), ab
// (text). The TIME file holds "%e %U %S %M": wall, user and sys seconds, max RSS KB.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/xagent/perfharness/internal/runfile"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: bench-peers freeport | record … | table …")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "freeport":
		err = freePort(os.Stdout)
	case "record":
		err = record(os.Args[2:])
	case "table":
		err = table(os.Args[2:], os.Stdout)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-peers:", err)
		os.Exit(1)
	}
}

func freePort(w io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	_, err = fmt.Fprintln(w, ln.Addr().(*net.TCPAddr).Port)
	return err
}

// Row is one generator run.
type Row struct {
	Round      string  // round number, or N of the many-users round
	Tool       string  // ours-net, wrk, …
	Requests   int64   // responses completed (any status) plus transport errors the tool counts as requests
	Errors     int64   // transport errors and non-2xx answers
	DurS       float64 // the tool's own measured duration
	WallS      float64 // /usr/bin/time's elapsed
	UserS      float64
	SysS       float64
	RSSKB      int64
	P50MS      float64 // NaN: not reported
	P99MS      float64
	Users      int   // ours: most users running at once; others: 0
	ConnErrors int64 // wrk: connect errors; -1 when unknown
	Status     string
}

var header = []string{"round", "tool", "requests", "errors", "dur_s", "wall_s", "user_s", "sys_s", "rss_kb", "p50_ms", "p99_ms", "users", "conn_errors", "status"}

func (r Row) fields() []string {
	f := func(v float64) string {
		if math.IsNaN(v) {
			return "NaN"
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return []string{r.Round, r.Tool, strconv.FormatInt(r.Requests, 10), strconv.FormatInt(r.Errors, 10),
		f(r.DurS), f(r.WallS), f(r.UserS), f(r.SysS), strconv.FormatInt(r.RSSKB, 10),
		f(r.P50MS), f(r.P99MS), strconv.Itoa(r.Users), strconv.FormatInt(r.ConnErrors, 10), r.Status}
}

func parseRow(fs []string) (Row, error) {
	if len(fs) != len(header) {
		return Row{}, fmt.Errorf("%d fields, want %d", len(fs), len(header))
	}
	num := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
	return Row{Round: fs[0], Tool: fs[1], Requests: int64(num(fs[2])), Errors: int64(num(fs[3])),
		DurS: num(fs[4]), WallS: num(fs[5]), UserS: num(fs[6]), SysS: num(fs[7]), RSSKB: int64(num(fs[8])),
		P50MS: num(fs[9]), P99MS: num(fs[10]), Users: int(num(fs[11])), ConnErrors: int64(num(fs[12])), Status: fs[13]}, nil
}

func record(args []string) error {
	fs := flag.NewFlagSet("record", flag.ContinueOnError)
	tsv := fs.String("tsv", "", "TSV file to append to")
	round := fs.String("round", "", "round label")
	tool := fs.String("tool", "", "tool name")
	out := fs.String("out", "", "tool output (run file for ours)")
	timeFile := fs.String("time", "", "/usr/bin/time output")
	status := fs.String("status", "ok", "status when the output parses")
	if err := fs.Parse(args); err != nil {
		return err
	}
	row := Row{Round: *round, Tool: *tool, P50MS: math.NaN(), P99MS: math.NaN(), ConnErrors: -1, Status: *status}
	if err := readTime(*timeFile, &row); err != nil {
		row.Status = "no time: " + err.Error()
	}
	var err error
	switch {
	case strings.HasPrefix(*tool, "ours"):
		err = parseOurs(*out, &row)
	case *tool == "wrk":
		err = parseWrk(*out, &row)
	case *tool == "hey":
		err = parseHey(*out, &row)
	case *tool == "bombardier":
		err = parseBombardier(*out, &row)
	case *tool == "vegeta":
		err = parseVegeta(*out, &row)
	case *tool == "ab":
		err = parseAb(*out, &row)
	default:
		err = fmt.Errorf("unknown tool %q", *tool)
	}
	if err != nil {
		row.Status = "failed: " + strings.ReplaceAll(err.Error(), "\t", " ")
	}
	f, ferr := os.OpenFile(*tsv, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if ferr != nil {
		return ferr
	}
	defer f.Close()
	if st, _ := f.Stat(); st.Size() == 0 {
		fmt.Fprintln(f, strings.Join(header, "\t"))
	}
	_, ferr = fmt.Fprintln(f, strings.Join(row.fields(), "\t"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench-peers: %s round %s: %v\n", *tool, *round, err)
	}
	return ferr
}

func readTime(path string, r *Row) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	// /usr/bin/time writes "Command exited with non-zero status N" first when
	// the command failed; the numbers are on the last line.
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	f := strings.Fields(lines[len(lines)-1])
	if len(f) != 4 {
		return fmt.Errorf("time line %q", lines[len(lines)-1])
	}
	r.WallS, _ = strconv.ParseFloat(f[0], 64)
	r.UserS, _ = strconv.ParseFloat(f[1], 64)
	r.SysS, _ = strconv.ParseFloat(f[2], 64)
	r.RSSKB, _ = strconv.ParseInt(f[3], 10, 64)
	return nil
}

func parseOurs(path string, r *Row) error {
	f, err := os.Open(path)
	if err != nil {
		return errors.New("no run file")
	}
	defer f.Close()
	run, err := runfile.Decode(f)
	if err != nil {
		return err
	}
	s := run.Stats
	r.Requests, r.Errors = s.Total.Requests, s.Total.Failures
	r.DurS = s.Duration().Seconds()
	if s.Total.Service != nil && s.Total.Requests > 0 {
		r.P50MS = float64(s.Total.Service.ValueAtQuantile(50)) / 1000
		r.P99MS = float64(s.Total.Service.ValueAtQuantile(99)) / 1000
	}
	r.Users = s.Users
	for _, p := range s.Series {
		r.Users = max(r.Users, p.Users)
	}
	return nil
}

// dur parses wrk's 1.23ms, 456.78us, 1.02s, 2.00m.
func dur(s string) (float64, bool) {
	for _, u := range []struct {
		suf string
		ms  float64
	}{{"us", 1e-3}, {"ms", 1}, {"m", 60e3}, {"s", 1e3}} {
		if v, ok := strings.CutSuffix(s, u.suf); ok {
			f, err := strconv.ParseFloat(v, 64)
			return f * u.ms, err == nil
		}
	}
	return 0, false
}

func lines(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		out = append(out, strings.TrimSpace(sc.Text()))
	}
	return out, nil
}

var (
	wrkReq    = regexp.MustCompile(`^(\d+) requests in ([\d.]+)(us|ms|s|m),`)
	wrkSock   = regexp.MustCompile(`^Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkNon2xx = regexp.MustCompile(`^Non-2xx or 3xx responses: (\d+)`)
)

func parseWrk(path string, r *Row) error {
	ls, err := lines(path)
	if err != nil {
		return err
	}
	found := false
	r.ConnErrors = 0
	for _, l := range ls {
		if m := wrkReq.FindStringSubmatch(l); m != nil {
			r.Requests, _ = strconv.ParseInt(m[1], 10, 64)
			d, _ := dur(m[2] + m[3])
			r.DurS = d / 1000
			found = true
		} else if m := wrkSock.FindStringSubmatch(l); m != nil {
			for i := 1; i <= 4; i++ {
				n, _ := strconv.ParseInt(m[i], 10, 64)
				r.Errors += n
			}
			r.ConnErrors, _ = strconv.ParseInt(m[1], 10, 64)
		} else if m := wrkNon2xx.FindStringSubmatch(l); m != nil {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			r.Errors += n
		} else if f := strings.Fields(l); len(f) == 2 && (f[0] == "50%" || f[0] == "99%") {
			if v, ok := dur(f[1]); ok {
				if f[0] == "50%" {
					r.P50MS = v
				} else {
					r.P99MS = v
				}
			}
		}
	}
	if !found {
		return errors.New("no 'N requests in' line")
	}
	return nil
}

var (
	heyTotal  = regexp.MustCompile(`^Total:\s+([\d.]+) secs`)
	heyPct    = regexp.MustCompile(`^(50|99)% in ([\d.]+) secs`)
	heyStatus = regexp.MustCompile(`^\[(\d+)\]\s+(\d+) responses`)
	heyErr    = regexp.MustCompile(`^\[(\d+)\]\s+\S`)
)

func parseHey(path string, r *Row) error {
	ls, err := lines(path)
	if err != nil {
		return err
	}
	section := ""
	found := false
	for _, l := range ls {
		switch {
		case strings.HasPrefix(l, "Status code distribution"):
			section = "status"
			continue
		case strings.HasPrefix(l, "Error distribution"):
			section = "errors"
			continue
		}
		if m := heyTotal.FindStringSubmatch(l); m != nil {
			r.DurS, _ = strconv.ParseFloat(m[1], 64)
			found = true
		} else if m := heyPct.FindStringSubmatch(l); m != nil {
			v, _ := strconv.ParseFloat(m[2], 64)
			if m[1] == "50" {
				r.P50MS = v * 1000
			} else {
				r.P99MS = v * 1000
			}
		} else if m := heyStatus.FindStringSubmatch(l); m != nil && section == "status" {
			n, _ := strconv.ParseInt(m[2], 10, 64)
			r.Requests += n
			if c := m[1]; c[0] != '2' {
				r.Errors += n
			}
		} else if m := heyErr.FindStringSubmatch(l); m != nil && section == "errors" {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			r.Requests += n
			r.Errors += n
		}
	}
	if !found {
		return errors.New("no 'Total:' line")
	}
	return nil
}

func parseBombardier(path string, r *Row) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	// -p r -o json prints the result object; skip anything before its brace.
	if i := strings.IndexByte(string(b), '{'); i > 0 {
		b = b[i:]
	}
	var v struct {
		Result struct {
			TimeTakenSeconds                               float64
			Req1XX, Req2XX, Req3XX, Req4XX, Req5XX, Others int64
			Errors                                         []struct {
				Description string
				Count       int64
			}
			Latency struct {
				Percentiles map[string]float64 // µs
			}
		}
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("json: %v", err)
	}
	res := v.Result
	r.DurS = res.TimeTakenSeconds
	r.Requests = res.Req1XX + res.Req2XX + res.Req3XX + res.Req4XX + res.Req5XX + res.Others
	r.Errors = r.Requests - res.Req2XX
	if p, ok := res.Latency.Percentiles["50"]; ok {
		r.P50MS = p / 1000
	}
	if p, ok := res.Latency.Percentiles["99"]; ok {
		r.P99MS = p / 1000
	}
	return nil
}

func parseVegeta(path string, r *Row) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var v struct {
		Latencies map[string]float64 `json:"latencies"` // ns
		Duration  float64            `json:"duration"`  // ns
		Requests  int64              `json:"requests"`
		Success   float64            `json:"success"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("json: %v", err)
	}
	r.Requests = v.Requests
	r.Errors = v.Requests - int64(math.Round(v.Success*float64(v.Requests)))
	r.DurS = v.Duration / 1e9
	r.P50MS = v.Latencies["50th"] / 1e6
	r.P99MS = v.Latencies["99th"] / 1e6
	return nil
}

var (
	abTaken    = regexp.MustCompile(`^Time taken for tests:\s+([\d.]+) seconds`)
	abComplete = regexp.MustCompile(`^Complete requests:\s+(\d+)`)
	abFailed   = regexp.MustCompile(`^Failed requests:\s+(\d+)`)
	abNon2xx   = regexp.MustCompile(`^Non-2xx responses:\s+(\d+)`)
	abPct      = regexp.MustCompile(`^(50|99)%\s+(\d+)`)
)

func parseAb(path string, r *Row) error {
	ls, err := lines(path)
	if err != nil {
		return err
	}
	found := false
	for _, l := range ls {
		if m := abTaken.FindStringSubmatch(l); m != nil {
			r.DurS, _ = strconv.ParseFloat(m[1], 64)
		} else if m := abComplete.FindStringSubmatch(l); m != nil {
			r.Requests, _ = strconv.ParseInt(m[1], 10, 64)
			found = true
		} else if m := abFailed.FindStringSubmatch(l); m != nil {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			r.Errors += n
		} else if m := abNon2xx.FindStringSubmatch(l); m != nil {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			r.Errors += n
		} else if m := abPct.FindStringSubmatch(l); m != nil {
			v, _ := strconv.ParseFloat(m[2], 64)
			if m[1] == "50" {
				r.P50MS = v
			} else {
				r.P99MS = v
			}
		}
	}
	if !found {
		return errors.New("no 'Complete requests' line")
	}
	return nil
}

func readRows(path string) ([]Row, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rows []Row
	for i, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if i == 0 || l == "" {
			continue
		}
		r, err := parseRow(strings.Split(l, "\t"))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, i+1, err)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

func (r Row) ok() bool     { return r.Status == "ok" }
func (r Row) cpu() float64 { return r.UserS + r.SysS }
func (r Row) rps() float64 {
	if r.DurS <= 0 {
		return math.NaN()
	}
	return float64(r.Requests) / r.DurS
}
func (r Row) perCPU() float64 {
	if r.cpu() <= 0 {
		return math.NaN()
	}
	return float64(r.Requests) / r.cpu()
}
func (r Row) rssMB() float64 { return float64(r.RSSKB) / 1024 }

func num(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

// thousands formats a count with thin separators: 123,456.
func thousands(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func median(vs []float64) float64 {
	vs = slices.DeleteFunc(slices.Clone(vs), func(v float64) bool { return math.IsNaN(v) })
	if len(vs) == 0 {
		return math.NaN()
	}
	slices.Sort(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2]
	}
	return (vs[n/2-1] + vs[n/2]) / 2
}

// toolOrder is the order of the summary's rows.
var toolOrder = []string{"ours-net", "ours-fast", "wrk", "bombardier", "hey", "vegeta", "ab"}

func toolRank(t string) int {
	if i := slices.Index(toolOrder, t); i >= 0 {
		return i
	}
	return len(toolOrder)
}

func table(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("table", flag.ContinueOnError)
	tsv := fs.String("tsv", "", "throughput rows")
	many := fs.String("many", "", "many-users rows")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *tsv != "" {
		rows, err := readRows(*tsv)
		if err != nil {
			return err
		}
		throughput(w, rows)
	}
	if *many != "" {
		rows, err := readRows(*many)
		if err != nil {
			return err
		}
		manyTable(w, rows)
	}
	return nil
}

func throughput(w io.Writer, rows []Row) {
	var rounds []string
	for _, r := range rows {
		if !slices.Contains(rounds, r.Round) {
			rounds = append(rounds, r.Round)
		}
	}
	type agg struct{ rps, per, ratio, rss, p50, p99 []float64 }
	sum := map[string]*agg{}
	var tools []string
	const head = "| tool | req/s | req per CPU-s | vs wrk | CPU s | peak RSS MB | p50 ms | p99 ms | requests | errors |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n"
	for _, round := range rounds {
		var rs []Row
		wrkPer := math.NaN()
		for _, r := range rows {
			if r.Round == round {
				rs = append(rs, r)
				if r.Tool == "wrk" && r.ok() {
					wrkPer = r.perCPU()
				}
			}
		}
		fmt.Fprintf(w, "\n#### Round %s (in run order)\n\n%s", round, head)
		for _, r := range rs {
			if !r.ok() {
				fmt.Fprintf(w, "| %s | %s | | | | | | | | |\n", r.Tool, r.Status)
				continue
			}
			ratio := r.perCPU() / wrkPer
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Tool, thousands(r.rps()), thousands(r.perCPU()),
				num(ratio, 2), num(r.cpu(), 2), num(r.rssMB(), 1), num(r.P50MS, 3), num(r.P99MS, 3), thousands(float64(r.Requests)), thousands(float64(r.Errors)))
			a := sum[r.Tool]
			if a == nil {
				a = &agg{}
				sum[r.Tool] = a
				tools = append(tools, r.Tool)
			}
			a.rps = append(a.rps, r.rps())
			a.per = append(a.per, r.perCPU())
			a.ratio = append(a.ratio, ratio)
			a.rss = append(a.rss, r.rssMB())
			a.p50 = append(a.p50, r.P50MS)
			a.p99 = append(a.p99, r.P99MS)
		}
	}
	slices.SortStableFunc(tools, func(a, b string) int { return toolRank(a) - toolRank(b) })
	fmt.Fprintf(w, "\n### Throughput: medians over %d round(s)\n\n", len(rounds))
	fmt.Fprint(w, "| tool | rounds | req/s | req per CPU-s | vs wrk (req per CPU-s) | peak RSS MB | p50 ms | p99 ms |\n|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, t := range tools {
		a := sum[t]
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %s |\n", t, len(a.rps), thousands(median(a.rps)), thousands(median(a.per)),
			num(median(a.ratio), 2), num(median(a.rss), 1), num(median(a.p50), 3), num(median(a.p99), 3))
	}
}

func manyTable(w io.Writer, rows []Row) {
	fmt.Fprint(w, "\n### Many users/connections (/status with 50 ms server latency)\n\n")
	fmt.Fprint(w, "| N | tool | all held | reached | errors % | req/s | peak RSS MB | RSS MB per 1,000 | p50 ms | p50 − wrk's ms |\n|--:|---|---|--:|--:|--:|--:|--:|--:|--:|\n")
	var ns []string
	for _, r := range rows {
		if !slices.Contains(ns, r.Round) {
			ns = append(ns, r.Round)
		}
	}
	for _, n := range ns {
		N, _ := strconv.Atoi(n)
		wrkP50 := math.NaN()
		for _, r := range rows {
			if r.Round == n && r.Tool == "wrk" && r.ok() {
				wrkP50 = r.P50MS
			}
		}
		for _, r := range rows {
			if r.Round != n {
				continue
			}
			if !r.ok() {
				fmt.Fprintf(w, "| %s | %s | no: %s | | | | | | | |\n", n, r.Tool, r.Status)
				continue
			}
			errPct := 100 * float64(r.Errors) / math.Max(1, float64(r.Requests))
			held, reached := "yes", "–"
			var why []string
			if errPct > 1 {
				why = append(why, fmt.Sprintf("errors %.1f%%", errPct))
			}
			switch {
			case strings.HasPrefix(r.Tool, "ours"):
				reached = fmt.Sprintf("%d users", r.Users)
				if r.Users < N {
					why = append(why, fmt.Sprintf("only %d users", r.Users))
				}
			case r.Tool == "wrk":
				reached = fmt.Sprintf("%d connect errors", r.ConnErrors)
				if r.ConnErrors > 0 {
					why = append(why, "connect errors")
				}
			}
			if r.Requests == 0 {
				why = append(why, "no requests")
			}
			if len(why) > 0 {
				held = "no: " + strings.Join(why, ", ")
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", n, r.Tool, held, reached, num(errPct, 2),
				thousands(r.rps()), num(r.rssMB(), 1), num(r.rssMB()/float64(N)*1000, 2), num(r.P50MS, 2), num(r.P50MS-wrkP50, 2))
		}
	}
}
