/*! tally.js: page views, no cookies */
((d,h,L)=>{let s=d.currentScript,e=encodeURIComponent,o,t,l,n=navigator,q=()=>{};if(!s?.src)return;o=new URL(s.src).origin;t=s.dataset.site||void 0;
let g=()=>d.querySelectorAll("[data-tally-views]").forEach(x=>fetch(o+"/api/views?path="+e(x.dataset.tallyViews||L.pathname)+(t?"&site="+e(t):"")).then(r=>r.json()).then(j=>j.views>=0&&(x.textContent=j.views)).catch(q)),
v=()=>{let u=L.href.split("#")[0],r=l||d.referrer,a=o+"/api/event",b;if(u==l)return;l&&setTimeout(g,99);l=u;try{if(localStorage.tally_ignore)return}catch(_){}
b=JSON.stringify({url:u,referrer:r,site:t});n.sendBeacon&&n.sendBeacon(a,new Blob([b],{type:"text/plain"}))||fetch(a,{method:"POST",keepalive:!0,body:b,headers:{"Content-Type":"text/plain"}}).catch(q)};
["pushState","replaceState"].forEach(m=>{let f=h[m];h[m]=function(){let r=f.apply(this,arguments);v();return r}});
addEventListener("popstate",v);v();d.readyState=="loading"?d.addEventListener("DOMContentLoaded",g):g()})(document,history,location);
