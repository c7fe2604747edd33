module labapp

go 1.22
