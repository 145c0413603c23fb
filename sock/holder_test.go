package sock

func holderMain() bool { return false }
