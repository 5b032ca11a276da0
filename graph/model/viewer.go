package model

// Viewer is the authenticated user; its fields resolve lazily.
type Viewer struct {
	UserID int
}
