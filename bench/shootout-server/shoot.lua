-- wrk script: POST /shoot for identity c(i+1) from node n(i), cycling over the 64 shooters.
local counter = 0
request = function()
  counter = counter + 1
  local i = counter % 64
  return wrk.format("POST", "/shoot",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer bench", ["X-Corral-Node"] = "n" .. i},
    '{"shooter":"c' .. (i + 1) .. '"}')
end
