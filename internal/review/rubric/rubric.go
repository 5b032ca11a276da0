// Package rubric holds the evaluation criteria of a review cycle and the
// ratings of a review. The types are stored as JSON columns, so this
// package imports nothing of the project: the ent schema can use it.
package rubric

// Label names one value of a rating scale, e.g. 5 = "Outstanding".
type Label struct {
	Value int    `json:"value"`
	Label string `json:"label"`
}

// Scale is an integer rating scale from Min to Max, both included.
type Scale struct {
	Min    int     `json:"min"`
	Max    int     `json:"max"`
	Labels []Label `json:"labels,omitempty"`
}

// Contains reports whether v is a value of the scale.
func (s Scale) Contains(v int) bool { return v >= s.Min && v <= s.Max }

// Criterion is one evaluation criterion of a cycle. Key identifies it in
// ratings; it is unique within its cycle.
type Criterion struct {
	Key         string `json:"key"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Scale       Scale  `json:"scale"`
}

// Rating is a review's rating of one criterion, with an optional comment.
type Rating struct {
	Criterion string `json:"criterion"`
	Value     int    `json:"value"`
	Comment   string `json:"comment,omitempty"`
}
