package pipeline

// SupersedeAtLoad lets tests load every row, as before rows were left out.
var SupersedeAtLoad = &supersedeAtLoad

// ExactBudget lets tests make the scans' budget for exact id hashes small.
var ExactBudget = &exactBudget
