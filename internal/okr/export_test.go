package okr

// ItemFacts exposes itemFacts to the agreement test.
var ItemFacts = itemFacts
