module aiocpp/bench/echo/go

go 1.19
