package fakeapi

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"
)

// goal is one stored goal. Goals never change after creation in the fake (no
// route updates them), so the JSON is rendered once and shared by every answer.
type goal struct {
	id         string
	created    int64 // Unix microseconds; created_at == updated_at
	priority   uint8
	continuous bool
	json       []byte
}

// newGoal renders a goal as X-Agent's Goal.to_dict() does.
func newGoal(description string, continuous bool, priority int, criteria []string, created time.Time) *goal {
	created = created.Truncate(time.Microsecond)
	g := &goal{id: newGoalID(), created: created.UnixMicro(), priority: uint8(priority), continuous: continuous}
	b := make([]byte, 0, 320+len(description))
	b = append(b, `{"id":"`...)
	b = append(b, g.id...)
	b = append(b, `","description":`...)
	b = appendStr(b, description)
	if continuous {
		b = append(b, `,"mode":"continuous"`...)
	} else {
		b = append(b, `,"mode":"goal_oriented"`...)
	}
	b = append(b, `,"status":"pending","priority":`...)
	b = strconv.AppendInt(b, int64(priority), 10)
	b = append(b, `,"parent_id":null,"sub_goals":[],"completion_criteria":`...)
	if criteria == nil {
		criteria = []string{}
	}
	b = appendStrList(b, criteria)
	b = append(b, `,"created_at":"`...)
	b = appendISO(b, created)
	b = append(b, `","updated_at":"`...)
	b = appendISO(b, created)
	b = append(b, `","completed_at":null,"metadata":{}}`...)
	g.json = b
	return g
}

// newGoalID returns "goal_" and a random (version 4) UUID.
func newGoalID() string {
	var u [16]byte
	hi, lo := rand.Uint64(), rand.Uint64()
	for i := range 8 {
		u[i] = byte(hi >> (8 * i))
		u[8+i] = byte(lo >> (8 * i))
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	const hex = "0123456789abcdef"
	b := make([]byte, 0, 41)
	b = append(b, "goal_"...)
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hex[c>>4], hex[c&0xf])
	}
	return string(b)
}

// goalStore holds at most max goals in a ring in creation order, evicting the
// oldest. Readers share an RWMutex read lock and never sort: every order the
// API offers is a walk over the ring (see list).
type goalStore struct {
	mu     sync.RWMutex
	max    int
	ring   []*goal // grows up to max, then wraps
	head   int     // index of the oldest goal once the ring is full
	byID   map[string]*goal
	counts [2][11]int // goals by [continuous][priority]
	// inversions counts neighbours whose created goes backwards (a clock that
	// stepped back); while it is 0 the ring is sorted by created.
	inversions int
}

// newGoalStore returns an empty store capped at max goals.
func newGoalStore(max int) *goalStore {
	return &goalStore{max: max, byID: make(map[string]*goal)}
}

// modeIndex maps a goal's mode to counts' first index.
func modeIndex(continuous bool) int {
	if continuous {
		return 1
	}
	return 0
}

// add stores g, evicting the oldest goal when the store is full.
func (st *goalStore) add(g *goal) {
	st.mu.Lock()
	defer st.mu.Unlock()
	n := len(st.ring)
	if n < st.max {
		if n > 0 && g.created < st.ring[n-1].created {
			st.inversions++
		}
		st.ring = append(st.ring, g)
	} else {
		old := st.ring[st.head]
		if n > 1 && st.at(1).created < old.created {
			st.inversions--
		}
		delete(st.byID, old.id)
		st.counts[modeIndex(old.continuous)][old.priority]--
		st.ring[st.head] = g
		st.head = (st.head + 1) % st.max
		if n > 1 && g.created < st.at(n-2).created {
			st.inversions++
		}
	}
	st.byID[g.id] = g
	st.counts[modeIndex(g.continuous)][g.priority]++
}

// at returns the i-th oldest goal; the caller holds the lock.
func (st *goalStore) at(i int) *goal {
	i += st.head
	if i >= len(st.ring) {
		i -= len(st.ring)
	}
	return st.ring[i]
}

// get finds a goal by id.
func (st *goalStore) get(id string) *goal {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.byID[id]
}

// summary counts the goals (all of them are pending in the fake).
func (st *goalStore) summary() int {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return len(st.ring)
}

// listResult is one page of GET /goals.
type listResult struct {
	total, page, pageSize, totalPages int64
	goals                             []*goal
}

// matcher is the filter part of a listQuery.
type matcher struct {
	none             bool // the status filter excludes every goal
	modes            [2]bool
	prioMin, prioMax int
}

// newMatcher compiles the filters; every fake goal is pending.
func newMatcher(q listQuery) matcher {
	m := matcher{prioMin: int(q.prioMin), prioMax: int(q.prioMax)}
	m.none = q.status != "" && q.status != "pending"
	switch q.mode {
	case "":
		m.modes = [2]bool{true, true}
	case "goal_oriented":
		m.modes[0] = true
	case "continuous":
		m.modes[1] = true
	}
	return m
}

// match reports whether g passes the filters.
func (m *matcher) match(g *goal) bool {
	return m.modes[modeIndex(g.continuous)] && int(g.priority) >= m.prioMin && int(g.priority) <= m.prioMax
}

// all reports whether the filters pass every goal.
func (m *matcher) all() bool {
	return !m.none && m.modes[0] && m.modes[1] && m.prioMin <= 1 && m.prioMax >= 10
}

// list answers GET /goals like X-Agent: filter, stable sort (Python's sort keeps
// equal keys in creation order even with reverse=True), clamp the page, slice.
// Orders are walks of the ring, so a page costs O(page) without filters.
func (st *goalStore) list(q listQuery) listResult {
	m := newMatcher(q)
	st.mu.RLock()
	defer st.mu.RUnlock()

	var total int64
	if !m.none {
		for mode := range 2 {
			if !m.modes[mode] {
				continue
			}
			for p := m.prioMin; p <= m.prioMax; p++ {
				total += int64(st.counts[mode][p])
			}
		}
	}
	res := listResult{total: total, page: q.page, pageSize: q.pageSize, totalPages: 1}
	if total == 0 {
		return res
	}
	res.totalPages = (total + q.pageSize - 1) / q.pageSize
	if res.page > res.totalPages {
		res.page = res.totalPages
	}
	offset := (res.page - 1) * res.pageSize
	res.goals = make([]*goal, 0, min(res.pageSize, total-offset))
	want := int(min(res.pageSize, total-offset))

	ordered := st.inversions == 0
	switch {
	case q.sortBy == sortPriority:
		st.walkPriority(&m, q.desc, int(offset), want, &res.goals)
	case q.sortBy == sortStatus || !q.desc && ordered:
		st.walkAsc(&m, int(offset), want, &res.goals)
	case ordered:
		st.walkDesc(&m, int(offset), want, &res.goals)
	default:
		st.sortCreated(&m, q.desc, int(offset), want, &res.goals)
	}
	return res
}

// walkAsc collects goals in creation order.
func (st *goalStore) walkAsc(m *matcher, offset, want int, out *[]*goal) {
	n := len(st.ring)
	i := 0
	if m.all() {
		i = offset
		offset = 0
	}
	for ; i < n && len(*out) < want; i++ {
		g := st.at(i)
		if !m.match(g) {
			continue
		}
		if offset > 0 {
			offset--
			continue
		}
		*out = append(*out, g)
	}
}

// walkDesc collects goals newest first; goals created in the same microsecond
// keep their creation order, as a stable reverse sort leaves them.
func (st *goalStore) walkDesc(m *matcher, offset, want int, out *[]*goal) {
	n := len(st.ring)
	pos := 0
	if m.all() {
		pos = offset
		offset = 0
	}
	for ; pos < n && len(*out) < want; pos++ {
		// Position pos of the descending order: mirror index x, then flip
		// within the run of equal timestamps around x.
		x := n - 1 - pos
		a, b := x, x
		c := st.at(x).created
		for a > 0 && st.at(a-1).created == c {
			a--
		}
		for b < n-1 && st.at(b+1).created == c {
			b++
		}
		g := st.at(a + b - x)
		if !m.match(g) {
			continue
		}
		if offset > 0 {
			offset--
			continue
		}
		*out = append(*out, g)
	}
}

// walkPriority collects goals by priority, each priority in creation order,
// skipping whole priorities by their counts.
func (st *goalStore) walkPriority(m *matcher, desc bool, offset, want int, out *[]*goal) {
	for k := range 10 {
		p := 1 + k
		if desc {
			p = 10 - k
		}
		if p < m.prioMin || p > m.prioMax {
			continue
		}
		count := 0
		for mode := range 2 {
			if m.modes[mode] {
				count += st.counts[mode][p]
			}
		}
		if offset >= count {
			offset -= count
			continue
		}
		for i := 0; i < len(st.ring) && len(*out) < want; i++ {
			g := st.at(i)
			if int(g.priority) != p || !m.match(g) {
				continue
			}
			if offset > 0 {
				offset--
				continue
			}
			*out = append(*out, g)
		}
		offset = 0
		if len(*out) >= want {
			return
		}
	}
}

// sortCreated is the slow path for a store whose clock went backwards.
func (st *goalStore) sortCreated(m *matcher, desc bool, offset, want int, out *[]*goal) {
	var all []*goal
	for i := range st.ring {
		if g := st.at(i); m.match(g) {
			all = append(all, g)
		}
	}
	slices.SortStableFunc(all, func(a, b *goal) int {
		if desc {
			a, b = b, a
		}
		switch {
		case a.created < b.created:
			return -1
		case a.created > b.created:
			return 1
		}
		return 0
	})
	if offset < len(all) {
		*out = append(*out, all[offset:min(len(all), offset+want)]...)
	}
}
