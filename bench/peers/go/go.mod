module aiocpp/bench/peers/go

go 1.19
