module labsh.test/frontend

go 1.19
