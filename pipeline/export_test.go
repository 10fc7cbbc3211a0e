package pipeline

// SupersedeAtLoad lets tests load every row, as before rows were left out.
var SupersedeAtLoad = &supersedeAtLoad
