module labapp

go 1.19
