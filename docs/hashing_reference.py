#!/usr/bin/env python3
"""Executable reference for docs/hashing.md, hash/assignment version 1.

Slow on purpose: it follows the written definition (the greedy over all pairs) rather than the
deferred acceptance of common/bucket_assignment.cc, and prints the golden digests that
tests/common/bucket_assignment_test.cc pins. Run: python3 docs/hashing_reference.py"""

M=(1<<64)-1
def mix(z):
  z=((z^(z>>30))*0xbf58476d1ce4e5b9)&M
  z=((z^(z>>27))*0x94d049bb133111eb)&M
  return z^(z>>31)
B=16384
def quotas(m):
  W=sum(w for _,w in m); q={h:B*w//W for h,w in m}; r={h:B*w%W for h,w in m}
  left=B-sum(q.values())
  for h in sorted(q,key=lambda h:(-r[h],h))[:left]: q[h]+=1
  return q
def assign(m,seed):
  q=quotas(m); pairs=[]
  for b in range(B):
    k=mix((seed<<32)|b)
    for h in q:
      if q[h]: pairs.append((-mix((k+h*0x9e3779b97f4a7c15)&M),h,b))
  pairs.sort(); own=[0]*B
  for _,h,b in pairs:
    if own[b]==0 and q[h]>0: own[b]=h; q[h]-=1
  return own
def digest(o):
  h=0xcbf29ce484222325
  for x in o:
    for byte in (x&0xff,x>>8): h=((h^byte)*0x100000001b3)&M
  return h
for m,seed in [([(1,50),(2,50),(3,50)],0x4e4c4231),([(4,10),(17,100),(30,55),(200,1),(256,0)],0x12345678),([(i,50) for i in range(1,65)],7)]:
  o=assign(m,seed); print(hex(digest(o)),o[0],o[1],o[-1])
