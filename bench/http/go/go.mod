module aiocpp/bench/http/go

go 1.19
